using DecodeAlign.Decoding.Engine;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Guided;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using Xunit.Abstractions;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Search;

/// <summary>
/// Transfer Q* against its definition on the toy world: with exact (greedy, deterministic) baseline rollouts the first
/// token follows softmax(log π_base + α·Q) over the base top-k (chi-square), where Q(s, z) = r([s, z, τ*]) is computed by
/// enumeration; the estimator Q̂ over sampled rollouts converges to the enumerated direct and indirect targets.
/// </summary>
public sealed class TransferQDefinitionTests(ITestOutputHelper output)
{
    private const int Copies = 6_000, MaxNew = 3, Length = 2;

    /// <summary>The baseline policy ρ_BL: prefers c, then EOS as the response grows; different from the base LM.</summary>
    private static float[] BaselineLogits(IReadOnlyList<int> prefix)
    {
        var len = prefix.Count - 1;
        return [0.2f - 0.3f * len, prefix[^1] == C ? 0.9f : -0.1f, 0.8f - (prefix[^1] == C ? 1.2f : 0), float.NegativeInfinity, -0.6f + 0.5f * len];
    }

    private static ICausalLm Baseline() => new ToyLm(LmInfo(64), BaselineLogits);

    /// <summary>r_BL for indirect transfer: another prefix reward over the same tokens.</summary>
    private static float BaselineReward(IReadOnlyList<int> tokens) => tokens.Skip(1).Sum(t => t == C ? 0.9f : t == A ? 0.4f : t == Eos ? -0.3f : 0f);

    private static TransferQStrategy Create(LanguageModel lm, ITokenKernels kernels, int k, float alpha, Potentials? potentials = null, int rollouts = 1, float rolloutTemperature = 0) =>
        new(lm, kernels, new GenerationOptions { MaxNewTokens = MaxNew, Sampling = new SamplingParameters { Seed = 5 } },
            potentials ?? new Potentials { PrefixScorer = GuidedToy.Scorer(64), BaselinePolicy = Baseline() },
            new TransferQOptions { TopK = k, Alpha = alpha, RolloutLength = Length, Rollouts = rollouts, RolloutTemperature = rolloutTemperature });

    /// <summary>The greedy rollout of <paramref name="policy"/> from <paramref name="run"/> for up to <paramref name="budget"/> tokens, EOS kept.</summary>
    private static int[] Greedy(Func<IReadOnlyList<int>, float[]> policy, int[] run, int budget)
    {
        for (var i = 0; i < budget; i++)
        {
            var l = policy(run);
            var next = Array.IndexOf(l, l.Max());
            run = [.. run, next];
            if (next == Eos) break;
        }
        return run;
    }

    /// <summary>Q(s, z) = r([s, z, τ*]) with τ* the greedy rollout of <paramref name="policy"/> (no rollout when <paramref name="rollout"/> is false).</summary>
    private static double Q(int[] s, int z, Func<IReadOnlyList<int>, float[]> policy, bool rollout = true) =>
        GuidedToy.Reward(z == Eos || !rollout ? [.. s, z] : Greedy(policy, [.. s, z], Math.Min(Length, MaxNew - 1)));

    private static double[] Target(int[] s, int k, double alpha, bool onlyTopK = true, bool rollout = true, Func<IReadOnlyList<int>, float[]>? policy = null)
    {
        var logits = ToyWorld.Logits(s);
        var lp = ToyWorld.LogSoftmax(logits);
        var top = onlyTopK ? GuidedToy.TopK(logits, k) : Enumerable.Range(0, Vocab).Where(t => float.IsFinite(logits[t])).ToArray();
        var scores = Enumerable.Repeat(double.NegativeInfinity, Vocab).ToArray();
        foreach (var z in top) scores[z] = lp[z] + alpha * Q(s, z, policy ?? BaselineLogits, rollout);
        return GuidedToy.Softmax(scores);
    }

    /// <summary>First tokens of <see cref="Copies"/> decodes of every state (EOS counted as <see cref="Eos"/>).</summary>
    private static long[][] CountFirstTokens(IDecodingStrategy strategy)
    {
        var prompts = GuidedToy.States.SelectMany(s => Enumerable.Repeat(s, Copies)).ToArray();
        var results = strategy.Decode(prompts);
        var counts = GuidedToy.States.Select(_ => new long[Vocab]).ToArray();
        for (var i = 0; i < results.Count; i++)
            counts[i / Copies][results[i].Tokens.Length > 0 ? results[i].Tokens[0] : Eos]++;
        return counts;
    }

    [Fact]
    public void With_exact_rollouts_the_first_token_follows_softmax_of_log_pi_plus_alpha_q_over_the_top_k()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        const int k = 3;
        const float alpha = 1.7f;
        var counts = CountFirstTokens(Create(lm, kernels, k, alpha));
        var right = GuidedToy.MinPValue(counts, s => Target(s, k, alpha));
        var wrongAlpha = GuidedToy.MinPValue(counts, s => Target(s, k, 1.0));
        var noRollout = GuidedToy.MinPValue(counts, s => Target(s, k, alpha, rollout: false));
        var everyToken = GuidedToy.MinPValue(counts, s => Target(s, k, alpha, onlyTopK: false));
        var basePolicy = GuidedToy.MinPValue(counts, s => Target(s, k, alpha, policy: ToyWorld.Logits));
        output.WriteLine($"right {right:G3}; wrong α {wrongAlpha:G3}; no rollout {noRollout:G3}; every token {everyToken:G3}; base-LM rollouts {basePolicy:G3}");
        Assert.True(right > 1e-3, $"min p over states = {right:G3}");
        Assert.True(wrongAlpha < 1e-6, "wrong α");
        Assert.True(noRollout < 1e-6, "Q from the candidate alone, without the rollout");
        Assert.True(everyToken < 1e-6, "tokens outside the top-k");
        Assert.True(basePolicy < 1e-6, "rollouts from the base LM instead of the baseline policy");
    }

    [Fact]
    public void Greedy_choice_takes_the_argmax_of_log_pi_plus_alpha_q()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new TransferQStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = MaxNew },
            new Potentials { PrefixScorer = GuidedToy.Scorer(64), BaselinePolicy = Baseline() },
            new TransferQOptions { TopK = 4, Alpha = 2.3f, RolloutLength = Length, Temperature = 0 });
        var results = strategy.Decode(GuidedToy.States);
        for (var i = 0; i < GuidedToy.States.Length; i++)
        {
            var target = Target(GuidedToy.States[i], 4, 2.3);
            var first = results[i].Tokens.Length > 0 ? results[i].Tokens[0] : Eos;
            Assert.Equal(Array.IndexOf(target, target.Max()), first);
        }
    }

    /// <summary>Every rollout of up to <see cref="Length"/> tokens from <paramref name="run"/> with its probability under ρ_BL (temperature 1).</summary>
    private static List<(int[] Run, double P)> Enumerate(int[] run, int budget)
    {
        if (budget == 0 || run[^1] == Eos) return [(run, 1.0)];
        var p = GuidedToy.Softmax(BaselineLogits(run).Select(x => (double)x).ToArray());
        return Enumerable.Range(0, Vocab).Where(t => p[t] > 0)
            .SelectMany(t => Enumerate([.. run, t], budget - 1).Select(x => (x.Run, x.P * p[t]))).ToList();
    }

    [Theory]
    [InlineData(0.7f)]
    [InlineData(2.0f)]
    public void Estimated_q_over_sampled_rollouts_matches_the_enumerated_direct_and_indirect_targets(float beta)
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        using var baseline = Baseline();
        const int m = 20_000;
        int[] start = [Bos, A, B]; // state [BOS, a] extended by candidate b
        using var session = baseline.CreateSession();
        for (var j = 0; j < m; j++) session.AddRow(start);
        var rollouts = RowExtender.Extend(session, kernels, Enumerable.Range(0, m).ToArray(), Enumerable.Repeat(Length, m).ToArray(),
            new SamplingParameters { Temperature = 1, Seed = 17 }, Enumerable.Range(0, m).Select(j => new SampleKey(j, 0)).ToArray(), new HashSet<int> { Eos });
        int[][] runs = rollouts.Select(x => (int[])[.. start, .. x.Tokens, .. (x.EndedWithEos ? new[] { Eos } : [])]).ToArray();
        var r = runs.Select(GuidedToy.Reward).ToArray();
        var rBl = runs.Select(BaselineReward).ToArray();

        var all = Enumerate(start, Length);
        double Weighted(Func<double, double, double> weight)
        {
            double num = 0, den = 0;
            foreach (var (run, p) in all)
            {
                var w = p * weight(GuidedToy.Reward(run), BaselineReward(run));
                num += w * GuidedToy.Reward(run);
                den += w;
            }
            return num / den;
        }
        var direct = Weighted((_, _) => 1);
        var indirect = Weighted((x, y) => Math.Exp((x - y) / beta));
        var reversed = Weighted((x, y) => Math.Exp((y - x) / beta));
        var qDirect = TransferQStrategy.EstimateQ(r, [], beta);
        var qIndirect = TransferQStrategy.EstimateQ(r, rBl, beta);
        output.WriteLine($"β={beta}: direct {qDirect:F4} vs {direct:F4}; indirect {qIndirect:F4} vs {indirect:F4} (reversed weights {reversed:F4})");
        const double tolerance = 0.02;
        Assert.InRange(qDirect, direct - tolerance, direct + tolerance);
        Assert.InRange(qIndirect, indirect - tolerance, indirect + tolerance);
        // The check has the power to tell the wrong formulas apart: an unweighted mean or reversed weights are far off.
        Assert.True(Math.Abs(qIndirect - direct) > 5 * tolerance, "indirect estimate indistinguishable from the unweighted mean");
        Assert.True(Math.Abs(qIndirect - reversed) > 5 * tolerance, "indirect estimate indistinguishable from reversed weights");
    }

    [Fact]
    public void Indirect_transfer_with_r_bl_equal_to_r_is_direct_transfer_and_differs_otherwise()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var prompts = GuidedToy.States.SelectMany(s => Enumerable.Repeat(s, 200)).ToArray();
        var scorer = GuidedToy.Scorer(64);
        Potentials With(ToyScorer? bl) => new() { PrefixScorer = scorer, BaselinePolicy = Baseline(), BaselineReward = bl };
        string Run(ToyScorer? bl) => string.Join("|", Create(lm, kernels, 3, 1.5f, With(bl), rollouts: 4, rolloutTemperature: 1).Decode(prompts).Select(x => Text(x.Tokens)));
        var direct = Run(null);
        Assert.Equal(direct, Run(GuidedToy.Scorer(64)));
        var other = new ToyScorer(ToyInfo.Create(DecoderOutputKind.Scores, Vocab, 64, Eos, "toy-r-bl"), BaselineReward);
        Assert.NotEqual(direct, Run(other));
    }

    [Fact]
    public void A_prompt_decodes_the_same_alone_or_first_in_a_batch_and_cancellation_returns_partial_results()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = Create(lm, kernels, 3, 1.5f, rollouts: 2, rolloutTemperature: 1);
        // Prompt i draws with row id i (as in every strategy): a prompt first in a batch decodes as it does alone.
        var prompts = GuidedToy.States;
        for (var i = 0; i < prompts.Length; i++)
        {
            int[][] batch = [prompts[i], .. prompts.Where((_, j) => j != i), prompts[i]];
            Assert.Equal(strategy.Decode([prompts[i]])[0].Tokens, strategy.Decode(batch)[0].Tokens);
        }
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.All(strategy.Decode(prompts, cancelled.Token), r => Assert.Equal(FinishReason.Cancelled, r.Finish));
    }
}
