using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using Xunit.Abstractions;

namespace DecodeAlign.Decoding.Tests;

/// <summary>
/// SMC against its definition on the toy world, where p(y), Z = Σ_y p(y)·exp(r(y)/β) and the target
/// π(y) = p(y)·exp(r(y)/β)/Z are enumerable: over many independent runs (one per prompt copy) the Z estimate is
/// unbiased, the weighted particles estimate E_π[f], and wrong incremental weights fail both checks.
/// </summary>
public sealed class SmcDefinitionTests(ITestOutputHelper output)
{
    private const int Runs = 3000;

    private static IReadOnlyList<DecodeResult> Run(SmcOptions options, int runs, ulong seed, bool twist = true,
        SmcWeightRule rule = SmcWeightRule.Twisted, GenerationOptions? generation = null, CancellationToken ct = default, int[][]? prompts = null)
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var potentials = new Potentials
        {
            Reward = ToyPotentials.RewardModel(ToyPotentials.Reward),
            PrefixScorer = twist ? ToyPotentials.PrefixScorer(ToyPotentials.Twist) : null,
            AnswerExtractor = ToyPotentials.LastCharacter,
        };
        generation ??= new GenerationOptions { MaxNewTokens = ToyWorld.MaxLength, Sampling = new SamplingParameters { Seed = seed } };
        var strategy = new SmcStrategy(lm, kernels, generation, potentials, options) { WeightRule = rule };
        return strategy.Decode(prompts ?? ToyPotentials.BosPrompts(runs), ct);
    }

    private static (string[] Texts, double[] Target, double Z) Exact(float beta)
    {
        var (texts, p) = ToyPotentials.Responses();
        var unnormalised = texts.Select((t, i) => p[i] * Math.Exp(ToyPotentials.Reward(t) / beta)).ToArray();
        var z = unnormalised.Sum();
        return (texts, unnormalised.Select(u => u / z).ToArray(), z);
    }

    /// <summary>(mean of Ẑ − Z) in standard errors of the mean over the runs.</summary>
    private static double ZScoreOfZ(IReadOnlyList<DecodeResult> results, double z)
    {
        var zs = results.Select(r => Math.Exp(r.Trace.LogNormalizer!.Value)).ToArray();
        var mean = zs.Average();
        var se = Math.Sqrt(zs.Sum(x => (x - mean) * (x - mean)) / (zs.Length - 1) / zs.Length);
        return (mean - z) / se;
    }

    /// <summary>
    /// Ẑ-weighted pooled estimate of π(y) for every response, Σ_m Ẑ_m Σ_i W_i^m 1[y_i^m = y] / Σ_m Ẑ_m (consistent as
    /// the runs grow, for any fixed N), with each entry's deviation from the target in delta-method standard errors.
    /// </summary>
    private static (double[] Estimate, double[] ZScores) PooledEstimate(IReadOnlyList<DecodeResult> results, string[] texts, double[] target)
    {
        var index = texts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var m = results.Count;
        var zhat = results.Select(r => Math.Exp(r.Trace.LogNormalizer!.Value)).ToArray();
        var a = new double[m, texts.Length];
        for (var k = 0; k < m; k++)
            foreach (var c in results[k].Trace.Candidates)
                a[k, index[ToyWorld.Text(c.Tokens)]] += zhat[k] * c.Weight!.Value;
        var meanB = zhat.Average();
        var estimate = new double[texts.Length];
        var scores = new double[texts.Length];
        for (var y = 0; y < texts.Length; y++)
        {
            double sumA = 0;
            for (var k = 0; k < m; k++) sumA += a[k, y];
            estimate[y] = sumA / zhat.Sum();
            double v = 0;
            for (var k = 0; k < m; k++) v += Math.Pow(a[k, y] - estimate[y] * zhat[k], 2);
            var se = Math.Sqrt(v / (m - 1) / m) / meanB;
            scores[y] = se > 0 ? (estimate[y] - target[y]) / se : (estimate[y] == target[y] ? 0 : double.PositiveInfinity);
        }
        return (estimate, scores);
    }

    private static double TotalVariation(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Sum() / 2;

    [Theory]
    [InlineData(4, 0.5, 1, 1.0f, true)]
    [InlineData(4, 1.0, 1, 1.0f, true)]
    [InlineData(3, 0.5, 2, 0.5f, true)]
    [InlineData(4, 0.5, 1, 1.0f, false)]
    public void Z_estimate_is_unbiased_and_weighted_particles_match_the_target(int particles, double ess, int block, float beta, bool twist)
    {
        var (texts, target, z) = Exact(beta);
        var results = Run(new SmcOptions { Particles = particles, EssThreshold = ess, BlockSize = block, Beta = beta }, Runs, seed: 17, twist);
        var zScore = ZScoreOfZ(results, z);
        var (estimate, scores) = PooledEstimate(results, texts, target);
        var worst = scores.Max(Math.Abs);
        var tv = TotalVariation(estimate, target);
        output.WriteLine($"Z = {z:F4}, z-score of mean Ẑ = {zScore:F2}; pooled π̂: max |z| = {worst:F2} over {texts.Length} responses, TV = {tv:F4}");
        Assert.True(Math.Abs(zScore) < 4, $"mean Ẑ is {zScore:F2} standard errors from Z = {z}");
        Assert.True(worst < 4.5, $"max |z| = {worst:F2}");
        Assert.True(tv < 0.06, $"TV = {tv:F4}"); // sampling noise over 40 responses is ≈ 0.03; the wrong weights give > 0.2

        // f = response length: a smooth functional, same pooled estimator.
        var lengths = texts.Select(t => (double)t.Length).ToArray();
        var exactLength = target.Zip(lengths, (p, l) => p * l).Sum();
        var estimatedLength = estimate.Zip(lengths, (p, l) => p * l).Sum();
        Assert.True(Math.Abs(estimatedLength - exactLength) < 0.03, $"E[len] {estimatedLength:F4} vs {exactLength:F4}");
    }

    [Theory]
    [InlineData(nameof(SmcWeightRule.NoTwistSubtraction))]
    [InlineData(nameof(SmcWeightRule.TwistKeptAtEnd))]
    public void A_wrong_incremental_weight_fails_the_same_checks(string ruleName)
    {
        var rule = Enum.Parse<SmcWeightRule>(ruleName);
        var (texts, target, z) = Exact(1f);
        var results = Run(new SmcOptions { Particles = 4 }, Runs, seed: 17, rule: rule);
        var zScore = ZScoreOfZ(results, z);
        var (estimate, scores) = PooledEstimate(results, texts, target);
        var worst = scores.Max(Math.Abs);
        output.WriteLine($"{rule}: z-score of mean Ẑ = {zScore:F2}; pooled π̂: max |z| = {worst:F2}, TV = {TotalVariation(estimate, target):F4}");
        // |z| > 5 is p < 1e-6 two-sided.
        Assert.True(Math.Abs(zScore) > 5, $"Ẑ z-score {zScore:F2}");
        Assert.True(worst > 5, $"max |z| = {worst:F2}");
        Assert.True(TotalVariation(estimate, target) > 0.1);
    }

    [Fact]
    public void Self_normalised_estimates_converge_as_particles_grow()
    {
        var (texts, target, _) = Exact(1f);
        var (_, p) = ToyPotentials.Responses();
        var index = texts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        double Tv(int particles, int runs)
        {
            var mean = new double[texts.Length];
            foreach (var r in Run(new SmcOptions { Particles = particles }, runs, seed: 23))
                foreach (var c in r.Trace.Candidates) mean[index[ToyWorld.Text(c.Tokens)]] += c.Weight!.Value / runs;
            return TotalVariation(mean, target);
        }
        var small = Tv(2, 2000);
        var large = Tv(64, 200);
        var prior = TotalVariation(p, target);
        output.WriteLine($"TV(p, π) = {prior:F4}; mean self-normalised estimate: N = 2 → TV {small:F4}, N = 64 → TV {large:F4}");
        // Self-normalised estimates are biased by O(1/N): far off with 2 particles, within sampling noise with 64.
        Assert.True(large < 0.04, $"N = 64: TV = {large:F4}");
        Assert.True(large < small / 5);
    }

    [Fact]
    public void Without_resampling_the_twist_telescopes_to_the_reward()
    {
        const float beta = 0.7f;
        foreach (var r in Run(new SmcOptions { Particles = 6, EssThreshold = 0, Beta = beta }, 50, seed: 5))
        {
            var c = r.Trace.Candidates;
            var logw = c.Select(x => ToyPotentials.Reward(x.Text) / (double)beta).ToArray();
            var max = logw.Max();
            var sum = logw.Sum(l => Math.Exp(l - max));
            for (var i = 0; i < c.Count; i++)
            {
                Assert.Equal(ToyPotentials.Reward(c[i].Text), c[i].Reward!.Value, 5);
                Assert.Equal(Math.Exp(logw[i] - max) / sum, c[i].Weight!.Value, 5);
            }
            Assert.Equal(max + Math.Log(sum / c.Count), r.Trace.LogNormalizer!.Value, 4);
        }
    }

    [Fact]
    public void Particles_are_resampled_when_the_ess_falls_below_the_threshold()
    {
        // Same keys: without resampling the particles are the i.i.d. draws; with threshold 1 they resample whenever
        // the weights are not uniform, which changes the particle sets and leaves copies with equal weights.
        var never = Run(new SmcOptions { Particles = 4, EssThreshold = 0 }, 200, seed: 12);
        var always = Run(new SmcOptions { Particles = 4, EssThreshold = 1 }, 200, seed: 12);
        var changed = never.Zip(always).Count(x => !x.First.Trace.Candidates.Select(c => c.Text).SequenceEqual(x.Second.Trace.Candidates.Select(c => c.Text)));
        Assert.True(changed > 100, $"{changed} of 200 runs changed");
    }

    [Fact]
    public void Highest_weight_selection_returns_the_heaviest_particle()
    {
        foreach (var r in Run(new SmcOptions { Particles = 5 }, 100, seed: 6))
        {
            Assert.Equal(1.0, r.Trace.Candidates.Sum(c => c.Weight!.Value), 5);
            var best = r.Trace.Candidates.MaxBy(c => c.Weight)!;
            Assert.Equal(best.Tokens, r.Tokens);
            Assert.Equal(best.Reward, r.Reward);
            Assert.Equal("smc", r.Trace.Strategy);
        }
    }

    [Fact]
    public void Weighted_vote_returns_the_answer_with_most_weight()
    {
        var checkedCount = 0;
        foreach (var r in Run(new SmcOptions { Particles = 6, Selection = SmcSelection.WeightedVote }, 150, seed: 7))
        {
            var c = r.Trace.Candidates;
            Assert.All(c, x => Assert.Equal(ToyPotentials.LastCharacter(x.Text), x.Answer));
            var mass = c.Where(x => x.Answer is not null).GroupBy(x => x.Answer!).ToDictionary(g => g.Key, g => g.Sum(x => x.Weight!.Value));
            if (mass.Count == 0) continue;
            var ranked = mass.OrderByDescending(kv => kv.Value).ToArray();
            if (ranked.Length > 1 && ranked[0].Value - ranked[1].Value < 1e-5) continue; // float-level tie
            checkedCount++;
            var chosen = c.Where(x => x.Answer == ranked[0].Key).MaxBy(x => x.Weight)!;
            Assert.Equal(chosen.Tokens, r.Tokens);
        }
        Assert.True(checkedCount > 100);
    }

    [Fact]
    public void A_prompt_gets_the_same_particles_alone_or_in_a_batch_and_prefills_once()
    {
        var options = new SmcOptions { Particles = 5 };
        var alone = Run(options, 1, seed: 9)[0];
        var batch = Run(options, 0, seed: 9, prompts: [[ToyWorld.Bos], [ToyWorld.Bos, ToyWorld.B], [ToyWorld.Bos]]);
        Assert.Equal(alone.Trace.Candidates.Select(c => (c.Text, c.Weight)), batch[0].Trace.Candidates.Select(c => (c.Text, c.Weight)));
        Assert.Equal(alone.Trace.LogNormalizer, batch[0].Trace.LogNormalizer);
        // One prefill call for the prompt rows, then one LM call per step for all particles of all prompts.
        var c = batch[0].Trace.Compute;
        Assert.True(c.LmCalls <= 1 + ToyWorld.MaxLength, $"{c.LmCalls} LM calls");
    }

    [Fact]
    public void Cancellation_stops_within_a_step_and_returns_the_particles()
    {
        using var cts = new CancellationTokenSource();
        var calls = 0;
        using var lm = new LanguageModel(new ToyLm(ToyWorld.LmInfo(64), prefix =>
        {
            if (prefix.Count == 3 && Interlocked.Increment(ref calls) == 1) cts.Cancel();
            return ToyWorld.Logits(prefix);
        }), ToyWorld.Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var potentials = new Potentials { Reward = ToyPotentials.RewardModel(ToyPotentials.Reward), PrefixScorer = ToyPotentials.PrefixScorer(ToyPotentials.Twist) };
        var r = new SmcStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 50, IgnoreEos = true }, potentials, new SmcOptions { Particles = 4 })
            .Decode([[ToyWorld.Bos]], cts.Token)[0];
        Assert.Equal(FinishReason.Cancelled, r.Finish);
        Assert.Equal(3, r.Tokens.Length);
        Assert.Null(r.Trace.LogNormalizer);
        Assert.Equal(4, r.Trace.Candidates.Count);
    }

    [Fact]
    public void Missing_potentials_and_invalid_options_fail_before_any_model_runs()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var g = new GenerationOptions();
        var rm = new Potentials { Reward = ToyPotentials.RewardModel(ToyPotentials.Reward) };
        Assert.Equal("strategy 'smc' needs a reward model (Potentials.Reward)",
            Assert.Throws<ArgumentException>(() => new SmcStrategy(lm, kernels, g, Potentials.None, new SmcOptions())).Message);
        Assert.Contains("needs an answer extractor (Potentials.AnswerExtractor)",
            Assert.Throws<ArgumentException>(() => new SmcStrategy(lm, kernels, g, rm, new SmcOptions { Selection = SmcSelection.WeightedVote })).Message);
        Assert.Equal("particles must be >= 1 (got 0)", Assert.Throws<ArgumentException>(() => new SmcStrategy(lm, kernels, g, rm, new SmcOptions { Particles = 0 })).Message);
        Assert.Equal("beta must be > 0 and finite (got -1)", Assert.Throws<ArgumentException>(() => new SmcStrategy(lm, kernels, g, rm, new SmcOptions { Beta = -1 })).Message);
        Assert.Throws<ArgumentException>(() => new SmcStrategy(lm, kernels, g, rm, new SmcOptions { EssThreshold = 1.5 }));
        Assert.Throws<ArgumentException>(() => new SmcStrategy(lm, kernels, g, rm, new SmcOptions { BlockSize = 0 }));
    }
}
