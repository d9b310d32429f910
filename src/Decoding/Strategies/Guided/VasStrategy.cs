using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Value-augmented sampling (Han et al. 2024, "Value Augmented Sampling for Language Model Alignment and
/// Personalization"): at state s = [x, y&lt;t] the k tokens A_k with the highest base logits get
/// ℓ'(a) = logit(a) + Σ_j β_j·(V_j(s, a) − (1/k)·Σ_{a' ∈ A_k} V_j(s, a')) for the value models V_j of
/// <see cref="Potentials.Values"/>, every other token keeps ℓ'(a) = logit(a), and y_t ~ softmax(ℓ' / τ) over the whole
/// vocabulary. All prompts advance as one batch; per step one LM call and, per value model, one call for all
/// candidates of all rows (one step of a vocabulary-wide head, or one candidate call of a scalar head).
/// From <see cref="GenerationOptions.Sampling"/> only the seed is used.
/// </summary>
public sealed class VasStrategy : DecodingStrategy<VasOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options, β or value models, before any model runs.</summary>
    public VasStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, VasOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate(model.Lm.Info.VocabSize);
        if (potentials.Values.Count == 0) throw new ArgumentException("strategy 'vas' needs at least one value model (Potentials.Values)");
        foreach (var v in potentials.Values)
        {
            if (!(v.Beta > 0f) || float.IsInfinity(v.Beta)) throw new ArgumentException($"beta must be > 0 and finite (got {v.Beta})");
            GuideChecks.SameTokenSpace("vas", "value model", v.Model.Info, model.Lm.Info, DecoderOutputKind.Values, DecoderOutputKind.Scores);
        }
    }

    /// <inheritdoc />
    public override string Name => "vas";

    /// <summary>Receives (prompt index, text) as each response's text becomes final, for streaming to a console.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>Decodes every prompt; prompt i draws with row id i, so its response does not depend on the batch it runs in.</summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        using var lm = Model.Lm.CreateSession();
        var values = new List<IDecoderSession>();
        try
        {
            foreach (var v in Potentials.Values) values.Add(v.Model.CreateSession());
            foreach (var p in prompts)
            {
                lm.AddRow(p);
                foreach (var s in values) s.AddRow(p);
            }
            var keys = Enumerable.Range(0, prompts.Count).Select(i => new SampleKey(i, 0)).ToArray();
            var vocab = Model.Lm.Info.VocabSize;
            var k = Options.TopK;
            var m = values.Count;
            var betas = Potentials.Values.Select(v => v.Beta).ToArray();
            var draw = new SamplingParameters { Temperature = Options.Temperature, Seed = Generation.Sampling.Seed };
            var buffer = Array.Empty<float>();
            var generator = new RolloutEngine(Model, Kernels, Generation) { OnText = OnText };
            var generated = generator.Generate(lm, values, keys, Choose, out _, cancellationToken);
            wall.Stop();
            var compute = ComputeMeter.Trace(lm, values, generated.Sum(g => g.Tokens.Count), wall.Elapsed, generator.PrefillTime);
            return generated.Select(g => new DecodeResult([.. g.Tokens], g.Text, g.Finish, null,
                new DecodeTrace { Strategy = Name, Compute = compute })).ToArray();

            void Choose(RowOutputs logits, ReadOnlySpan<SampleKey> stepKeys, Span<int> tokens, Span<float> scores, CancellationToken ct)
            {
                var n = logits.Rows;
                // The view dies with the next session change and the scatter writes in place: work on a copy
                // (one buffer for the whole decode; the batch only shrinks).
                if (buffer.Length < n * vocab) buffer = new float[n * vocab];
                var augmented = buffer.AsSpan(0, n * vocab);
                logits.Values.Span.CopyTo(augmented);
                var ids = new int[n * k];
                var baseLogits = new float[n * k];
                Kernels.TopK(augmented, vocab, k, ids, baseLogits);
                var rows = Enumerable.Range(0, n).ToArray();
                var candidateValues = new float[m * n * k];
                for (var j = 0; j < m; j++) CandidateValues.Read(values[j], rows, ids, candidateValues.AsSpan(j * n * k, n * k), ct);
                var fused = new float[n * k];
                Kernels.FuseCandidates(baseLogits, k, candidateValues, betas, FusionMode.Centered, fused);
                Kernels.ScatterCandidates(augmented, vocab, ids, k, fused);
                Kernels.Sample(augmented, vocab, draw, stepKeys, tokens);
                scores.Fill(float.NaN);
            }
        }
        finally
        {
            foreach (var s in values) s.Dispose();
        }
    }
}
