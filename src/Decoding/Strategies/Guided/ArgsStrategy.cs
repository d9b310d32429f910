using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// ARGS, reward-guided search (Khanov et al. 2024, "ARGS: Alignment as Reward-Guided Search"): at step t the k tokens
/// V_k with the highest base logits are scored s(v) = logit(v) + w·R([x, y&lt;t, v]) with the prefix scorer R, and
/// y_t = argmax_{v ∈ V_k} s(v) (greedy, τ = 0) or y_t ~ softmax(s / τ) over V_k (τ &gt; 0); tokens outside V_k are never
/// chosen. All prompts advance as one batch; per step one LM call and one scorer call for all k candidates of all rows
/// (<see cref="IDecoderSession.ForwardCandidates"/>, reusing the scorer's KV cache, which follows the chosen tokens), or,
/// when the scorer has a vocabulary-wide candidate head (<see cref="IPrefixScorer.CreateCandidateSession"/>), one
/// scorer row per prompt whose output holds R([x, y&lt;t, v]) for every v.
/// From <see cref="GenerationOptions.Sampling"/> only the seed is used. A result's reward is R of its whole response
/// (null for an empty one). With <see cref="ArgsOptions.Speculate"/> the LM's next step runs on its top token while the
/// scorer runs, so a step costs about the longer of the two calls instead of their sum when the guess holds.
/// </summary>
public sealed class ArgsStrategy : DecodingStrategy<ArgsOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options or a missing or mismatched prefix scorer, before any model runs.</summary>
    public ArgsStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, ArgsOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate(model.Lm.Info.VocabSize);
        var scorer = potentials.PrefixScorer ?? throw new ArgumentException("strategy 'args' needs a prefix scorer (Potentials.PrefixScorer)");
        GuideChecks.SameTokenSpace("args", "prefix scorer", scorer.Info, model.Lm.Info, DecoderOutputKind.Scores);
    }

    /// <inheritdoc />
    public override string Name => "args";

    /// <summary>Receives (prompt index, text) as each response's text becomes final, for streaming to a console.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>Decodes every prompt; prompt i draws with row id i, so its response does not depend on the batch it runs in.</summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        using var lm = Model.Lm.CreateSession();
        // A scorer with a vocabulary-wide candidate head scores every next token of a row in one row's step; otherwise
        // each row's k candidates run as k rows.
        using var scorer = Potentials.PrefixScorer!.CreateCandidateSession() ?? Potentials.PrefixScorer!.CreateSession();
        var wide = scorer.Info.OutputWidth > 1;
        if (wide && scorer.Info.OutputWidth != Model.Lm.Info.VocabSize)
            throw new InvalidOperationException($"{scorer.Info.Source}: the candidate head is {scorer.Info.OutputWidth} wide; the LM's vocabulary is {Model.Lm.Info.VocabSize}.");
        foreach (var p in prompts)
        {
            lm.AddRow(p);
            scorer.AddRow(p);
        }
        var keys = Enumerable.Range(0, prompts.Count).Select(i => new SampleKey(i, 0)).ToArray();
        var vocab = Model.Lm.Info.VocabSize;
        var k = Options.TopK;
        float[] weights = [Options.Weight];
        var seed = Generation.Sampling.Seed;
        // Greedy ARGS keeps the LM's top token whenever the reward does not overturn it, so the LM's next step is run
        // on that guess while the scorer scores the candidates (rewound where the guess was wrong).
        var generator = new RolloutEngine(Model, Kernels, Generation) { OnText = OnText, Speculate = Options.Speculate };
        var generated = generator.Generate(lm, [scorer], keys, Choose, out var rewards, cancellationToken);
        wall.Stop();
        var compute = ComputeMeter.Trace(lm, [scorer], generated.Sum(g => g.Tokens.Count), wall.Elapsed, generator.PrefillTime);
        return generated.Select((g, i) => new DecodeResult([.. g.Tokens], g.Text, g.Finish, rewards[i],
            new DecodeTrace { Strategy = Name, Compute = compute, SpeculationHitRate = generator.Speculation.Guesses == 0 ? null : (double)generator.Speculation.Hits / generator.Speculation.Guesses })).ToArray();

        void Choose(RowOutputs logits, ReadOnlySpan<SampleKey> stepKeys, Span<int> tokens, Span<float> scores, CancellationToken ct)
        {
            var n = logits.Rows;
            var ids = new int[n * k];
            var baseLogits = new float[n * k];
            Kernels.TopK(logits.Values.Span, vocab, k, ids, baseLogits);
            ReadOnlySpan<float> candidateRewards;
            if (wide)
            {
                var all = scorer.Forward(ct);
                var gathered = new float[n * k];
                for (var i = 0; i < n * k; i++) gathered[i] = all.Row(i / k)[ids[i]];
                candidateRewards = gathered;
            }
            else
                // Width 1: the n·k candidate rewards are contiguous, ordered like ids.
                candidateRewards = scorer.ForwardCandidates(Enumerable.Range(0, n).ToArray(), ids, ct).Values.Span;
            var fused = new float[n * k];
            Kernels.FuseCandidates(baseLogits, k, candidateRewards, weights, FusionMode.Raw, fused);
            var chosen = new int[n];
            Kernels.SelectCandidates(fused, k, Options.Temperature, seed, stepKeys, chosen);
            for (var i = 0; i < n; i++)
            {
                tokens[i] = ids[i * k + chosen[i]];
                scores[i] = candidateRewards[i * k + chosen[i]];
            }
        }
    }
}
