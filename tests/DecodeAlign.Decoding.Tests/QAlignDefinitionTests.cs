using Xunit.Abstractions;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Tests;

/// <summary>
/// QAlign's chain, run long enough, draws y with π(y) = p(y)·exp(r(y)/β)/Z, checked by enumerating the toy world's
/// responses; the same check rejects chains with a wrong acceptance ratio or a wrong cut convention.
/// </summary>
public sealed class QAlignDefinitionTests(ITestOutputHelper output)
{
    internal const int Prompts = 1000, ChainsPerPrompt = 4, Steps = 24;
    private const int Chains = ChainsPerPrompt;

    /// <summary>Favours responses containing b and penalises length, so π differs from p in content and in length.</summary>
    internal static double Reward(IReadOnlyList<int> y) => 1.5 * (y.Contains(ToyWorld.B) ? 1 : 0) - 0.5 * y.Count;

    /// <summary>The toy tokens of a response text (the toy tokenizer's decoder may put spaces between tokens).</summary>
    internal static int[] TokensOf(string text) => text.Where(ch => ch is 'a' or 'b' or 'c').Select(ch => ch - 'a').ToArray();

    internal static ToyScorer RewardModel(Action? onScore = null) =>
        new(ToyInfo.Create(DecoderOutputKind.Scores, ToyWorld.Vocab, 16, ToyWorld.Eos, "toy-rm"), _ => 0,
            q => { onScore?.Invoke(); return (float)Reward(TokensOf(q.Response)); });

    internal static IReadOnlyList<DecodeResult> Run(QAlignOptions options, int prompts, ulong seed, float temperature = 1f, int maxNewTokens = ToyWorld.MaxLength)
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var generation = new GenerationOptions { MaxNewTokens = maxNewTokens, Sampling = new SamplingParameters { Temperature = temperature, Seed = seed } };
        var strategy = new QAlignStrategy(lm, kernels, generation, new Potentials { Reward = RewardModel() }, options);
        return strategy.Decode(Enumerable.Repeat(new[] { ToyWorld.Bos }, prompts).ToArray());
    }

    /// <summary>π over <see cref="ToyWorld.AllResponses"/>: p (truncated at max length, tempered by τ) times exp(r/β), normalised.</summary>
    internal static double[] Target(double beta, double? rewardBeta = null, float temperature = 1f)
    {
        var logW = ToyWorld.AllResponses().Select(y => ToyWorld.LogProbability(y, temperature: temperature) + Reward(y) / (rewardBeta ?? beta)).ToArray();
        var max = logW.Max();
        var w = logW.Select(x => Math.Exp(x - max)).ToArray();
        return w.Select(x => x / w.Sum()).ToArray();
    }

    /// <summary>The last state of every chain (independent draws from the chain after all its steps), counted per response.</summary>
    internal static long[] LastStates(IReadOnlyList<DecodeResult> results, int chains, int steps)
    {
        var index = ToyWorld.AllResponses().Select((r, i) => (ToyWorld.Text(r), i)).ToDictionary(x => x.Item1, x => x.i);
        var counts = new long[index.Count];
        foreach (var r in results)
        {
            Assert.Equal((steps + 1) * chains, r.Trace.Candidates.Count);
            for (var c = 0; c < chains; c++) counts[index[ToyWorld.Text(r.Trace.Candidates[steps * chains + c].Tokens)]]++;
        }
        return counts;
    }

    /// <summary>Pearson's χ² after pooling outcomes expected fewer than 5 times (the χ² approximation needs that).</summary>
    internal static (double Chi, double PValue) PooledChiSquare(long[] counts, double[] target)
    {
        var n = counts.Sum();
        var small = Enumerable.Range(0, counts.Length).Where(i => n * target[i] < 5).ToArray();
        var c = Enumerable.Range(0, counts.Length).Except(small).Select(i => counts[i]).ToList();
        var p = Enumerable.Range(0, counts.Length).Except(small).Select(i => target[i]).ToList();
        if (small.Length > 0) { c.Add(small.Sum(i => counts[i])); p.Add(small.Sum(i => target[i])); }
        return Statistics.ChiSquare(c, p);
    }

    private static readonly Lazy<IReadOnlyList<DecodeResult>> BetaOneRun = new(() =>
        Run(new QAlignOptions { Beta = 1f, Steps = Steps, ChainsPerPrompt = Chains }, Prompts, seed: 11));

    /// <summary>The β = 1 run, shared with the trace tests (the most expensive run here).</summary>
    internal static IReadOnlyList<DecodeResult> BetaOne => BetaOneRun.Value;

    [Theory]
    [InlineData(1f)]
    [InlineData(2f)]
    public void The_chain_targets_p_times_exp_r_over_beta(float beta)
    {
        var results = beta == 1f ? BetaOneRun.Value : Run(new QAlignOptions { Beta = beta, Steps = Steps, ChainsPerPrompt = Chains }, Prompts, seed: 12);
        var target = Target(beta);
        Assert.Equal(1.0, ToyWorld.AllResponses().Sum(y => Math.Exp(ToyWorld.LogProbability(y))), 1e-6);
        Assert.True(Statistics.TotalVariation(LastStates(results, Chains, Steps), ToyWorld.AllResponses().Select(y => Math.Exp(ToyWorld.LogProbability(y))).ToArray()) > 0.1,
            "the target must differ clearly from p for the test to mean anything");
        var (chi, p) = PooledChiSquare(LastStates(results, Chains, Steps), target);
        output.WriteLine($"β = {beta}: χ² = {chi:F1}, p = {p:G3}");
        Assert.True(p > 1e-3, $"χ² = {chi:F1}, p = {p:G3}");
    }

    [Theory]
    [InlineData(QAlignVariant.WithoutLengthCorrection, 1f)]
    [InlineData(QAlignVariant.TokensOnlyCuts, 1f)]
    [InlineData(QAlignVariant.WithoutBeta, 2f)]
    internal void A_wrong_chain_fails_the_same_check(QAlignVariant variant, float beta)
    {
        var results = Run(new QAlignOptions { Beta = beta, Steps = Steps, ChainsPerPrompt = Chains, Variant = variant }, Prompts, seed: 11);
        var (chi, p) = PooledChiSquare(LastStates(results, Chains, Steps), Target(beta));
        output.WriteLine($"{variant}, β = {beta}: χ² = {chi:F1}, p = {p:G3}");
        Assert.True(p < 1e-6, $"{variant}: χ² = {chi:F1}, p = {p:G3}");
    }
}
