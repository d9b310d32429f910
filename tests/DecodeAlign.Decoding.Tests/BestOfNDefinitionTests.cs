using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using Xunit.Abstractions;

namespace DecodeAlign.Decoding.Tests;

/// <summary>
/// Best-of-N against its definition on the toy world: the argmax selection's law (F^N − F⁻^N with ties split in
/// proportion to p_LM), the votes recomputed from the trace, and early pruning's bookkeeping.
/// </summary>
public sealed class BestOfNDefinitionTests(ITestOutputHelper output)
{
    private const int N = 4;

    private static readonly Lazy<long[]> ArgmaxCounts = new(() =>
    {
        var (texts, _) = ToyPotentials.Responses();
        var index = texts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var results = Run(new BestOfNOptions { N = N }, ToyPotentials.TiedReward, ToyPotentials.BosPrompts(4000), seed: 11);
        var counts = new long[texts.Length];
        foreach (var r in results) counts[index[ToyWorld.Text(r.Tokens)]]++;
        return counts;
    });

    private static IReadOnlyList<DecodeResult> Run(BestOfNOptions options, Func<string, float> reward, int[][] prompts, ulong seed,
        GenerationOptions? generation = null, Func<IReadOnlyList<int>, float>? prefix = null, CancellationToken ct = default)
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var potentials = new Potentials
        {
            Reward = ToyPotentials.RewardModel(reward),
            PrefixScorer = prefix is null ? null : ToyPotentials.PrefixScorer(prefix),
            AnswerExtractor = ToyPotentials.LastCharacter,
        };
        generation ??= new GenerationOptions { MaxNewTokens = ToyWorld.MaxLength, Sampling = new SamplingParameters { Seed = seed } };
        return new BestOfNStrategy(lm, kernels, generation, potentials, options).Decode(prompts, ct);
    }

    /// <summary>P(select y) = (F(r_y)^n − F⁻(r_y)^n) · p(y) / P(R = r_y): the first candidate reaching the maximum is a draw from p given R = max.</summary>
    private static double[] BestOfNLaw(int n, Func<string, float> reward)
    {
        var (texts, p) = ToyPotentials.Responses(); // rewards read letters, so the compact texts score like decoded ones
        var r = texts.Select(reward).ToArray();
        return Enumerable.Range(0, texts.Length).Select(i =>
        {
            double f = 0, fBelow = 0;
            for (var j = 0; j < texts.Length; j++)
            {
                if (r[j] <= r[i]) f += p[j];
                if (r[j] < r[i]) fBelow += p[j];
            }
            return (Math.Pow(f, n) - Math.Pow(fBelow, n)) * p[i] / (f - fBelow);
        }).ToArray();
    }

    [Fact]
    public void Argmax_selection_follows_the_best_of_n_law()
    {
        var law = BestOfNLaw(N, ToyPotentials.TiedReward);
        Assert.Equal(1.0, law.Sum(), 1e-6);
        var (chi, p) = Statistics.ChiSquare(ArgmaxCounts.Value, law);
        output.WriteLine($"best-of-{N} law: χ² = {chi:F1}, p = {p:G3}");
        Assert.True(p > 1e-3, $"χ² = {chi:F1}, p = {p:G3}");
    }

    [Fact]
    public void A_wrong_best_of_n_law_fails_the_same_check()
    {
        var offByOne = Statistics.ChiSquare(ArgmaxCounts.Value, BestOfNLaw(N - 1, ToyPotentials.TiedReward));
        var (_, lmP) = ToyPotentials.Responses();
        var plain = Statistics.ChiSquare(ArgmaxCounts.Value, lmP);
        output.WriteLine($"best-of-{N - 1} law: χ² = {offByOne.ChiSquare:F1}, p = {offByOne.PValue:G3}; p_LM: χ² = {plain.ChiSquare:F1}, p = {plain.PValue:G3}");
        Assert.True(offByOne.PValue < 1e-6, $"best-of-{N - 1} law: p = {offByOne.PValue:G3}");
        Assert.True(plain.PValue < 1e-6);
    }

    [Fact]
    public void Result_is_the_highest_reward_candidate_of_its_trace()
    {
        foreach (var r in Run(new BestOfNOptions { N = 8 }, ToyPotentials.TiedReward, ToyPotentials.BosPrompts(50), seed: 3))
        {
            Assert.Equal(8, r.Trace.Candidates.Count);
            Assert.All(r.Trace.Candidates, c => Assert.Equal(ToyPotentials.TiedReward(c.Text), c.Reward!.Value, 6));
            var best = r.Trace.Candidates.MaxBy(c => c.Reward)!; // MaxBy keeps the first maximum: lowest index on ties
            Assert.Equal(best.Tokens, r.Tokens);
            Assert.Equal(best.Reward, r.Reward);
            Assert.Equal("bon", r.Trace.Strategy);
        }
    }

    [Fact]
    public void Majority_vote_picks_the_most_frequent_answer_and_its_first_candidate()
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Run(new BestOfNOptions { N = 7, Selector = BestOfNSelector.MajorityVote }, ToyPotentials.Reward, ToyPotentials.BosPrompts(200), seed: 4);
        foreach (var r in results)
        {
            var c = r.Trace.Candidates;
            Assert.All(c, x => Assert.Equal(ToyPotentials.LastCharacter(x.Text), x.Answer));
            // Definition: most frequent non-null answer, ties to the one appearing first; no answer only if none has one.
            var counts = c.Where(x => x.Answer is not null).GroupBy(x => x.Answer).Select(g => (g.Key, Count: g.Count(), First: c.ToList().FindIndex(x => x.Answer == g.Key))).ToList();
            var winner = counts.Count == 0 ? null : counts.OrderByDescending(x => x.Count).ThenBy(x => x.First).First().Key;
            var chosen = c.First(x => x.Answer == winner);
            Assert.Equal(chosen.Tokens, r.Tokens);
            Assert.Equal(ToyPotentials.Reward(r.Text), r.Reward!.Value, 6);
            Assert.Equal(winner, KernelWinner(kernels, c, rewards: false, beta: 1));
        }
        Assert.Equal("mv", results[0].Trace.Strategy);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.25f)]
    public void Weighted_vote_picks_the_answer_with_most_softmax_reward_mass(float beta)
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Run(new BestOfNOptions { N = 7, Selector = BestOfNSelector.WeightedVote, Beta = beta }, ToyPotentials.Reward, ToyPotentials.BosPrompts(200), seed: 5);
        var checkedCount = 0;
        foreach (var r in results)
        {
            var c = r.Trace.Candidates;
            var max = c.Max(x => x.Reward!.Value);
            var z = c.Sum(x => Math.Exp((x.Reward!.Value - max) / beta));
            var mass = c.Where(x => x.Answer is not null).GroupBy(x => x.Answer!)
                .ToDictionary(g => g.Key, g => g.Sum(x => Math.Exp((x.Reward!.Value - max) / beta)) / z);
            Assert.Equal(KernelWinner(kernels, c, rewards: true, beta), r.Trace.Candidates.First(x => x.Tokens.SequenceEqual(r.Tokens)).Answer);
            if (mass.Count == 0) continue;
            var ranked = mass.OrderByDescending(kv => kv.Value).ToArray();
            if (ranked.Length > 1 && ranked[0].Value - ranked[1].Value < 1e-6) continue; // float-level tie: the kernel's fixed point decides
            checkedCount++;
            var winner = ranked[0].Key;
            var chosen = c.Where(x => x.Answer == winner).MaxBy(x => x.Reward)!;
            Assert.Equal(chosen.Tokens, r.Tokens);
            Assert.Equal(chosen.Reward, r.Reward);
        }
        Assert.True(checkedCount > 150);
        Assert.Equal("wmv", results[0].Trace.Strategy);
    }

    /// <summary>The kernels' Vote op on a trace's candidates (answer ids by first appearance).</summary>
    private static string? KernelWinner(ITokenKernels kernels, IReadOnlyList<CandidateTrace> c, bool rewards, float beta)
    {
        var distinct = c.Select(x => x.Answer).Where(a => a is not null).Distinct().ToList();
        var ids = c.Select(x => x.Answer is null ? -1 : distinct.IndexOf(x.Answer)).ToArray();
        var winners = new int[1];
        kernels.Vote(ids, rewards ? c.Select(x => (float)x.Reward!.Value).ToArray() : [], [0, c.Count], beta, winners, new float[1]);
        return winners[0] < 0 ? null : distinct[winners[0]];
    }

    [Fact]
    public void A_prompt_gets_the_same_result_alone_or_in_a_batch()
    {
        var alone = Run(new BestOfNOptions { N = 5 }, ToyPotentials.Reward, [[ToyWorld.Bos]], seed: 9)[0];
        var batch = Run(new BestOfNOptions { N = 5 }, ToyPotentials.Reward, [[ToyWorld.Bos], [ToyWorld.Bos, ToyWorld.A], [ToyWorld.Bos]], seed: 9);
        Assert.Equal(alone.Tokens, batch[0].Tokens);
        Assert.Equal(alone.Trace.Candidates.Select(c => c.Text), batch[0].Trace.Candidates.Select(c => c.Text));
    }

    [Fact]
    public void Prefill_runs_once_per_prompt_and_all_candidates_run_as_one_batch()
    {
        var r = Run(new BestOfNOptions { N = 6 }, ToyPotentials.Reward, ToyPotentials.BosPrompts(3), seed: 2,
            new GenerationOptions { MaxNewTokens = 3, IgnoreEos = true, Sampling = new SamplingParameters { Seed = 2 } });
        var c = r[0].Trace.Compute;
        // Prefill (3 prompt rows), then one call per step for all 18 rows; the toy session counts every row of a call.
        Assert.Equal(1 + 3, c.LmCalls);
        Assert.Equal(3 + 3 * 18, c.LmTokens);
        Assert.Equal(1, c.RewardCalls);
        Assert.Equal(18, c.RewardTokens);
        Assert.Equal(54, c.GeneratedTokens);
    }

    [Fact]
    public void Pruning_with_alpha_zero_is_plain_best_of_n()
    {
        var plain = Run(new BestOfNOptions { N = 6 }, ToyPotentials.Reward, ToyPotentials.BosPrompts(40), seed: 21);
        var pruned = Run(new BestOfNOptions { N = 6, PruneAt = [1, 2], PruneFraction = 0 }, ToyPotentials.Reward, ToyPotentials.BosPrompts(40), seed: 21, prefix: ToyPotentials.Twist);
        for (var i = 0; i < plain.Count; i++)
        {
            Assert.Equal(plain[i].Tokens, pruned[i].Tokens);
            Assert.Equal(plain[i].Reward, pruned[i].Reward);
            Assert.Equal(plain[i].Trace.Candidates.Select(c => (c.Text, c.Reward)), pruned[i].Trace.Candidates.Select(c => (c.Text, c.Reward)));
            Assert.Equal(plain[i].Trace.Compute.LmTokens, pruned[i].Trace.Compute.LmTokens);
        }
    }

    [Fact]
    public void Pruning_drops_the_lowest_fraction_at_each_configured_count_and_they_stop_using_the_lm()
    {
        const int prompts = 10, n = 8;
        var generation = new GenerationOptions { MaxNewTokens = 3, IgnoreEos = true, Sampling = new SamplingParameters { Seed = 8 } };
        var results = Run(new BestOfNOptions { N = n, PruneAt = [1, 2], PruneFraction = 0.5 }, ToyPotentials.Reward,
            ToyPotentials.BosPrompts(prompts), seed: 8, generation, ToyPotentials.Twist);
        foreach (var r in results)
        {
            var c = r.Trace.Candidates;
            // 8 run to 1 token, ⌊0.5·8⌋ = 4 stop there; 4 run to 2 tokens, 2 stop there; 2 finish.
            Assert.Equal(4, c.Count(x => x.Accepted == false && x.Tokens.Length == 1));
            Assert.Equal(2, c.Count(x => x.Accepted == false && x.Tokens.Length == 2));
            Assert.Equal(2, c.Count(x => x.Accepted == true && x.Tokens.Length == 3));
            Assert.All(c, x => Assert.Equal(x.Accepted == true, x.Reward is not null));
            // At each count the dropped ones are the lowest prefix scores (ties: the higher index goes).
            AssertDroppedLowest(c.Select((x, i) => (x, i)).ToList(), count: 1, drop: 4);
            AssertDroppedLowest(c.Select((x, i) => (x, i)).Where(t => t.x.Tokens.Length >= 2).ToList(), count: 2, drop: 2);
            Assert.Contains(c, x => x.Accepted == true && x.Tokens.SequenceEqual(r.Tokens));
            Assert.Equal(c.Where(x => x.Accepted == true).Max(x => x.Reward), r.Reward);
        }
        var compute = results[0].Trace.Compute;
        // LM: prefill, then steps with 8, 4 and 2 rows per prompt.
        Assert.Equal(prompts + prompts * (8 + 4 + 2), compute.LmTokens);
        Assert.Equal(prompts * (8 + 4 + 2), compute.GeneratedTokens);
        // Prefix scorer: prompt prefill, 8 rows at count 1, 4 at count 2; reward model: one call for the 2 survivors per prompt.
        Assert.Equal(3 + 1, compute.RewardCalls);
        Assert.Equal(prompts + prompts * (8 + 4) + prompts * 2, compute.RewardTokens);
    }

    private static void AssertDroppedLowest(List<(CandidateTrace x, int i)> live, int count, int drop)
    {
        var ranked = live.OrderByDescending(t => ToyPotentials.Twist([ToyWorld.Bos, .. t.x.Tokens[..count]])).ThenBy(t => t.i).ToList();
        Assert.All(ranked.Take(live.Count - drop), t => Assert.True(t.x.Tokens.Length > count));
        Assert.All(ranked.Skip(live.Count - drop), t => Assert.Equal(count, t.x.Tokens.Length));
    }

    [Fact]
    public void Missing_potentials_and_invalid_options_fail_before_any_model_runs()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var g = new GenerationOptions();
        var rm = new Potentials { Reward = ToyPotentials.RewardModel(ToyPotentials.Reward) };
        Assert.Equal("strategy 'bon' needs a reward model (Potentials.Reward)",
            Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, Potentials.None, new BestOfNOptions())).Message);
        Assert.Equal("strategy 'mv' needs an answer extractor (Potentials.AnswerExtractor)",
            Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { Selector = BestOfNSelector.MajorityVote })).Message);
        Assert.Equal("strategy 'wmv' needs an answer extractor (Potentials.AnswerExtractor)",
            Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { Selector = BestOfNSelector.WeightedVote })).Message);
        Assert.Contains("needs a prefix scorer (Potentials.PrefixScorer)",
            Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { PruneAt = [4] })).Message);
        Assert.Equal("n must be >= 1 (got 0)", Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { N = 0 })).Message);
        Assert.Equal("beta must be > 0 and finite (got -1)", Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { Beta = -1 })).Message);
        Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { PruneAt = [4, 2] }));
        Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { PruneAt = [0] }));
        Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, g, rm, new BestOfNOptions { PruneFraction = 1 }));
        Assert.Throws<ArgumentException>(() => new BestOfNStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 0 }, rm, new BestOfNOptions()));
        // Majority vote counts answers, so it runs without a reward model (and reports no reward).
        var mv = new BestOfNStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 3 }, new Potentials { AnswerExtractor = ToyPotentials.LastCharacter },
            new BestOfNOptions { N = 3, Selector = BestOfNSelector.MajorityVote }).Decode([[ToyWorld.Bos]])[0];
        Assert.Null(mv.Reward);
    }

    [Fact]
    public void Cancellation_stops_within_a_step_and_returns_the_candidates_so_far()
    {
        using var cts = new CancellationTokenSource();
        var calls = 0;
        using var lm = new LanguageModel(new ToyLm(ToyWorld.LmInfo(64), prefix =>
        {
            if (prefix.Count == 3 && Interlocked.Increment(ref calls) == 1) cts.Cancel(); // while computing the 3rd token's logits
            return ToyWorld.Logits(prefix);
        }), ToyWorld.Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new BestOfNStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 50, IgnoreEos = true },
            new Potentials { Reward = ToyPotentials.RewardModel(ToyPotentials.Reward) }, new BestOfNOptions { N = 4 });
        var r = strategy.Decode([[ToyWorld.Bos]], cts.Token)[0];
        Assert.Equal(FinishReason.Cancelled, r.Finish);
        Assert.Equal(3, r.Tokens.Length); // the step that saw the cancel finished its token, the next did not start
        Assert.All(r.Trace.Candidates, c => Assert.Equal(3, c.Tokens.Length));
        Assert.Null(r.Reward);
    }
}
