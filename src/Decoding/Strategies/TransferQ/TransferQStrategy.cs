using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Transfer Q* (Chakraborty et al. 2024, "Transfer Q Star: Principled Decoding for LLM Alignment"): at state s the base
/// LM's top-k tokens z are reweighted, π(z | s) ∝ π_base(z | s)·exp(α·Q̂(s, z)), and the next token is drawn from π
/// (or its argmax at temperature 0). Q̂(s, z) estimates the target reward r of the completion with m rollouts τ_j of at
/// most L tokens (or to EOS) from a baseline policy ρ_BL (<see cref="Potentials.BaselinePolicy"/>): direct transfer
/// (ρ_BL aligned to r) takes Q̂ = (1/m)·Σ_j r([s, z, τ_j]); indirect transfer (ρ_BL aligned to another reward r_BL,
/// <see cref="Potentials.BaselineReward"/>) weights each rollout by w_j = exp((r_j − r_BL,j)/β), self-normalised:
/// Q̂ = Σ_j w_j r_j / Σ_j w_j, the importance correction from ρ_BL ∝ π·exp(r_BL/β) to π·exp(r/β).
/// Per step: one LM call for all rows, all k × m × rows rollouts in one baseline call per token (<see cref="RowExtender"/>),
/// one reward call for all of them (<see cref="ExtensionScorer"/>); the rollouts are forks of the baseline's rows and
/// are dropped afterwards, so the baseline's prefix cache is never recomputed.
/// </summary>
public sealed class TransferQStrategy : DecodingStrategy<TransferQOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options, a missing reward or baseline policy, or one outside the LM's token space.</summary>
    public TransferQStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, TransferQOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate(model.Lm.Info.VocabSize);
        var baseline = potentials.BaselinePolicy ?? throw new ArgumentException("strategy 'tqstar' needs a baseline policy (Potentials.BaselinePolicy)");
        GuideChecks.SameTokenSpace("tqstar", "baseline policy", baseline.Info, model.Lm.Info, DecoderOutputKind.Logits);
        if (potentials.PrefixScorer is null && potentials.Reward is null)
            throw new ArgumentException("strategy 'tqstar' needs a reward: a prefix scorer (Potentials.PrefixScorer) or a reward model (Potentials.Reward)");
        if (potentials.PrefixScorer is { } scorer) GuideChecks.SameTokenSpace("tqstar", "prefix scorer", scorer.Info, model.Lm.Info, DecoderOutputKind.Scores);
    }

    /// <inheritdoc />
    public override string Name => "tqstar";

    /// <summary>Receives (prompt index, text) as each response's text becomes final, for streaming to a console.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>
    /// Q̂ from one candidate's m rollout rewards: their mean (direct transfer, <paramref name="baselineRewards"/> empty),
    /// or Σ_j w_j r_j / Σ_j w_j with w_j = exp((r_j − r_BL,j)/β) (indirect transfer), computed stably in log space.
    /// </summary>
    public static double EstimateQ(ReadOnlySpan<float> rewards, ReadOnlySpan<float> baselineRewards, float beta)
    {
        if (rewards.Length == 0) throw new ArgumentException("at least one rollout reward is needed", nameof(rewards));
        if (baselineRewards.Length == 0)
        {
            double sum = 0;
            foreach (var r in rewards) sum += r;
            return sum / rewards.Length;
        }
        if (baselineRewards.Length != rewards.Length) throw new ArgumentException($"expected {rewards.Length} baseline rewards, got {baselineRewards.Length}", nameof(baselineRewards));
        var max = double.NegativeInfinity;
        for (var j = 0; j < rewards.Length; j++) max = Math.Max(max, (rewards[j] - (double)baselineRewards[j]) / beta);
        double num = 0, den = 0;
        for (var j = 0; j < rewards.Length; j++)
        {
            var w = Math.Exp((rewards[j] - (double)baselineRewards[j]) / beta - max);
            num += w * rewards[j];
            den += w;
        }
        return num / den;
    }

    /// <summary>
    /// Decodes every prompt; prompt i chooses with row id i and its rollout j of candidate c draws with row id
    /// (i·k + c)·m + j, so a prompt's response does not depend on the batch it runs in. A result's reward is Q̂ of its
    /// last kept token (EOS excluded): r of the whole response when that token ended it at its budget, else an estimate.
    /// </summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        var (k, m, alpha, length) = (Options.TopK, Options.Rollouts, Options.Alpha, Options.RolloutLength);
        using var lm = Model.Lm.CreateSession();
        using var baseline = Potentials.BaselinePolicy!.CreateSession();
        using var reward = new ExtensionScorer(Model, Potentials.PrefixScorer, Potentials.Reward);
        using var baselineReward = Potentials.BaselineReward is { } br ? new ExtensionScorer(Model, br as Models.Rewards.IPrefixScorer, br) : null;
        var guides = new[] { baseline, reward.Session, baselineReward?.Session }.OfType<IDecoderSession>().ToArray();
        foreach (var p in prompts)
        {
            lm.AddRow(p);
            foreach (var g in guides) g.AddRow(p);
        }
        var context = guides.Aggregate(lm.Info.ContextLength, (c, g) => Math.Min(c, g.Info.ContextLength));
        var vocab = lm.Info.VocabSize;
        IReadOnlySet<int> eos = Generation.IgnoreEos ? new HashSet<int>() : Model.EosTokenIds.ToHashSet();
        var rolloutSampling = Generation.Sampling with { Temperature = Options.RolloutTemperature, Seed = Generation.Sampling.Seed ^ 0x5851F42D4C957F2DUL };
        long rolloutTokens = 0;
        var keys = Enumerable.Range(0, prompts.Count).Select(i => new SampleKey(i, 0)).ToArray();
        var generator = new RolloutEngine(Model, Kernels, Generation) { OnText = OnText };
        var generated = generator.Generate(lm, guides, keys, Choose, out var lastQ, cancellationToken);
        wall.Stop();
        var compute = ComputeMeter.Trace(lm, guides, generated.Sum(g => g.Tokens.Count) + rolloutTokens, wall.Elapsed, generator.PrefillTime,
            reward.TextWork, baselineReward?.TextWork ?? default);
        return generated.Select((g, i) => new DecodeResult([.. g.Tokens], g.Text, g.Finish, lastQ[i], new DecodeTrace { Strategy = Name, Compute = compute })).ToArray();

        void Choose(RowOutputs logits, ReadOnlySpan<SampleKey> stepKeys, Span<int> tokens, Span<float> scores, CancellationToken ct)
        {
            var n = logits.Rows;
            var logProbs = new float[n * vocab];
            Kernels.LogSoftmax(logits.Values.Span, vocab, logProbs);
            var ids = new int[n * k];
            var lps = new float[n * k];
            Kernels.TopK(logProbs, vocab, k, ids, lps);

            // Rollout (i, c, j) is baseline row n + (i·k + c)·m + j: a fork of row i extended by candidate c.
            var total = n * k * m;
            var parents = new int[total];
            var runs = new int[total][];
            var ended = new bool[total];
            var rows = new List<int>();
            var budgets = new List<int>();
            var rolloutKeys = new List<SampleKey>();
            for (var x = 0; x < total; x++)
            {
                var (i, c) = (x / (k * m), x / m);
                parents[x] = i;
                ended[x] = eos.Contains(ids[c]);
                runs[x] = ended[x] ? [] : [ids[c]];
                var responseLength = stepKeys[i].Step; // keys advance by one per generated token
                var promptLength = lm.GetTokens(i).Length - responseLength;
                var left = Math.Min(length, Math.Min(Generation.MaxNewTokens, context - promptLength) - responseLength - 1);
                if (ended[x] || left <= 0 || float.IsNegativeInfinity(lps[c])) continue;
                rows.Add(n + x);
                budgets.Add(left);
                rolloutKeys.Add(new SampleKey((stepKeys[i].RowId * k + c % k) * m + x % m, responseLength * (length + 1)));
            }
            baseline.Select([.. Enumerable.Range(0, n), .. parents]);
            for (var x = 0; x < total; x++)
                if (runs[x].Length > 0) baseline.Append(n + x, runs[x]);
            var rollouts = RowExtender.Extend(baseline, Kernels, [.. rows], [.. budgets], rolloutSampling, [.. rolloutKeys], eos, ct);
            baseline.Select([.. Enumerable.Range(0, n)]);
            for (var r = 0; r < rows.Count; r++)
            {
                var x = rows[r] - n;
                runs[x] = [.. runs[x], .. rollouts[r].Tokens];
                ended[x] = rollouts[r].EndedWithEos;
                rolloutTokens += rollouts[r].Tokens.Length;
            }

            var prefixes = Enumerable.Range(0, n).Select(i => lm.GetTokens(i).ToArray()).ToArray();
            var anchorPrefixes = parents.Select(i => prefixes[i]).ToArray();
            var promptLengths = new int[total];
            for (var x = 0; x < total; x++) promptLengths[x] = prefixes[parents[x]].Length - stepKeys[parents[x]].Step;
            var r1 = reward.Score(parents, anchorPrefixes, promptLengths, runs, ended, ct);
            var r0 = baselineReward?.Score(parents, anchorPrefixes, promptLengths, runs, ended, ct) ?? [];
            var q = new float[n * k];
            var fused = new float[n * k];
            for (var c = 0; c < n * k; c++)
            {
                q[c] = (float)EstimateQ(r1.AsSpan(c * m, m), r0.Length == 0 ? [] : r0.AsSpan(c * m, m), Options.Beta);
                fused[c] = float.IsNegativeInfinity(lps[c]) ? float.NegativeInfinity : lps[c] + alpha * q[c];
            }
            var chosen = new int[n];
            Kernels.SelectCandidates(fused, k, Options.Temperature, Generation.Sampling.Seed, stepKeys, chosen);
            for (var i = 0; i < n; i++)
            {
                tokens[i] = ids[i * k + chosen[i]];
                scores[i] = q[i * k + chosen[i]];
            }
        }
    }
}
