using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Tests;

/// <summary>QAlign's mechanics: trace, regenerated tokens, cache reuse, keys, votes, cancellation and validation.</summary>
public sealed class QAlignStrategyTests
{
    private static readonly int[] Bos = [ToyWorld.Bos];

    private static QAlignStrategy Create(LanguageModel lm, ITokenKernels kernels, QAlignOptions options, ulong seed = 3, int maxNewTokens = ToyWorld.MaxLength,
        IRewardModel? reward = null, Func<string, string?>? extractor = null, bool ignoreEos = false) =>
        new(lm, kernels, new GenerationOptions { MaxNewTokens = maxNewTokens, IgnoreEos = ignoreEos, Sampling = new SamplingParameters { Seed = seed } },
            new Potentials { Reward = reward ?? QAlignDefinitionTests.RewardModel(), AnswerExtractor = extractor }, options);

    private static IReadOnlyList<DecodeResult> Run(QAlignOptions options, IReadOnlyList<int[]> prompts, ulong seed = 3, Func<string, string?>? extractor = null)
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        return Create(lm, kernels, options, seed, extractor: extractor).Decode(prompts);
    }

    /// <summary>E[|y′| − i | y_&lt;i]: tokens sampled after a kept prefix until EOS or max length, by enumeration.</summary>
    private static double ExpectedSuffix(List<int> prefix)
    {
        if (prefix.Count - 1 == ToyWorld.MaxLength) return 0;
        var lp = ToyWorld.LogSoftmax(ToyWorld.Logits(prefix));
        return new[] { ToyWorld.A, ToyWorld.B, ToyWorld.C }.Sum(t => Math.Exp(lp[t]) * (1 + ExpectedSuffix([.. prefix, t])));
    }

    /// <summary>E[regenerated tokens | state y] with the cut uniform over its n + 1 positions.</summary>
    private static double ExpectedRegenerated(int[] y) =>
        Enumerable.Range(0, y.Length + 1).Average(i => ExpectedSuffix([ToyWorld.Bos, .. y[..i]]));

    [Fact]
    public void The_trace_holds_every_state_with_its_reward_and_decision()
    {
        var results = QAlignDefinitionTests.BetaOne;
        const int chains = QAlignDefinitionTests.ChainsPerPrompt, steps = QAlignDefinitionTests.Steps;
        var lm = results[0].Trace.Compute;
        Assert.Equal(steps + 1, lm.RewardCalls); // one reward call per step for every chain of every prompt
        long identity = 0;
        foreach (var r in results)
        {
            Assert.Equal("qalign", r.Trace.Strategy);
            var c = r.Trace.Candidates;
            for (var k = 0; k < chains; k++) Assert.Null(c[k].Accepted);
            for (var i = 0; i < c.Count; i++)
                Assert.Equal(QAlignDefinitionTests.Reward(c[i].Tokens), c[i].Reward!.Value, 1e-6);
            var accepted = 0;
            for (var s = 1; s <= steps; s++)
                for (var k = 0; k < chains; k++)
                {
                    var (now, before) = (c[s * chains + k], c[(s - 1) * chains + k]);
                    if (now.Accepted == true) accepted++;
                    else Assert.Equal(before.Tokens, now.Tokens); // a rejection repeats the state
                    if (before.Tokens.Length == ToyWorld.MaxLength) identity++; // could have cut at its end: an upper bound on identity proposals
                }
            Assert.Equal(accepted / (double)(steps * chains), r.Trace.AcceptanceRate!.Value, 12);
            Assert.Equal(c[steps * chains].Tokens, r.Tokens); // last state of chain 0
            Assert.Equal(FinishReason.EndOfSequence == r.Finish, r.Tokens.Length < ToyWorld.MaxLength);
        }
        var initial = results.Sum(r => r.Trace.Candidates.Take(chains).Sum(x => (long)x.Tokens.Length));
        var regenerated = results.Sum(r => r.Trace.RegeneratedTokens!.Sum());
        Assert.Equal(lm.GeneratedTokens, initial + regenerated);
        // Cuts at the end of a finished (max-length) response are answered without scoring, so fewer rows than proposals are scored.
        var proposals = (long)results.Count * chains * steps;
        Assert.InRange(lm.RewardTokens - results.Count * chains, proposals - identity, proposals - 1);
    }

    [Fact]
    public void Proposals_regenerate_the_suffix_after_a_uniform_cut()
    {
        var results = QAlignDefinitionTests.BetaOne;
        const int chains = QAlignDefinitionTests.ChainsPerPrompt, steps = QAlignDefinitionTests.Steps;
        // Per prompt and step, the recorded count minus its expectation given the states before the step is a
        // martingale difference: its sum over all steps must be within a few standard errors of 0.
        var memo = new Dictionary<string, double>();
        double sumDiff = 0, sumSq = 0, sumRegen = 0, sumFull = 0;
        var n = 0;
        foreach (var r in results)
        {
            Assert.Equal(steps, r.Trace.RegeneratedTokens!.Count);
            for (var s = 1; s <= steps; s++)
            {
                var expected = Enumerable.Range(0, chains).Sum(k =>
                {
                    var y = r.Trace.Candidates[(s - 1) * chains + k].Tokens;
                    var key = ToyWorld.Text(y);
                    return memo.TryGetValue(key, out var e) ? e : memo[key] = ExpectedRegenerated(y);
                });
                var d = r.Trace.RegeneratedTokens[s - 1] - expected;
                sumDiff += d;
                sumSq += d * d;
                sumRegen += r.Trace.RegeneratedTokens[s - 1];
                sumFull += Enumerable.Range(0, chains).Sum(k => r.Trace.Candidates[s * chains + k].Tokens.Length);
                n++;
            }
        }
        var se = Math.Sqrt(sumSq);
        Assert.True(Math.Abs(sumDiff) < 5 * se, $"Σ(regenerated − expected) = {sumDiff:F1}, σ ≈ {se:F1}");
        Assert.True(sumRegen < sumFull, $"regenerated {sumRegen / n:F3} vs full responses {sumFull / n:F3} tokens per step");
    }

    /// <summary>LM tokens a QAlign run may compute: prompts, the initial responses, and per step at most the regenerated tokens (±1 per chain for the re-run token before the cut).</summary>
    private static void AssertCacheReused(DecodeResult[] results, long promptTokens, int chains, int steps, int maxNewTokens)
    {
        var compute = results[0].Trace.Compute;
        var regenerated = results.Sum(r => r.Trace.RegeneratedTokens!.Sum());
        var mcmcTokens = compute.LmTokens - promptTokens - (long)chains * (maxNewTokens - 1); // every initial response has max length (EOS ignored); its last token is never run
        Assert.InRange(mcmcTokens, regenerated - (long)chains * steps, regenerated + (long)chains * steps);
        // Recomputing the kept prefixes would cost Σ(prompt + cut) more, about half a response per chain and step.
        Assert.True(regenerated > 2L * chains * steps, "the check needs long regenerations to tell reuse from recomputation");
    }

    [Fact]
    public void The_kept_prefix_is_not_recomputed()
    {
        const int prompts = 3, chains = 4, steps = 10, maxNew = 20;
        using var lm = new LanguageModel(new KvAccountingLm(ToyWorld.LmInfo(64), ToyWorld.Logits), ToyWorld.Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = Create(lm, kernels, new QAlignOptions { Steps = steps, ChainsPerPrompt = chains }, maxNewTokens: maxNew, ignoreEos: true);
        var results = strategy.Decode(Enumerable.Repeat(Bos, prompts).ToArray()).ToArray();
        Assert.All(results, r => Assert.Equal(maxNew, r.Tokens.Length));
        AssertCacheReused(results, prompts, prompts * chains, steps, maxNew);
        // Exactly: per chain and step the regenerated tokens, less one when the cut sits just before the unrun last token.
        Assert.True(results[0].Trace.Compute.LmTokens <= prompts + prompts * chains * (maxNew - 1) + results.Sum(r => r.Trace.RegeneratedTokens!.Sum()));
    }

    [SharedFact]
    public void The_kept_prefix_is_not_recomputed_by_the_onnx_session()
    {
        const int chains = 3, steps = 6, maxNew = 16;
        using var lm = LanguageModel.Load(SharedModels.PathOf("tiny-random-llama-fp16"), new OnnxModelOptions { IntraOpThreads = 1 });
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var reward = new ToyScorer(ToyInfo.Create(DecoderOutputKind.Scores, 8, 8, 0, "length-rm"), _ => 0, q => q.Response.Length % 7 / 3f);
        var prompts = new[] { lm.EncodePrompt("Once upon a time"), lm.EncodePrompt("The cat") };
        var results = Create(lm, kernels, new QAlignOptions { Steps = steps, ChainsPerPrompt = chains }, seed: 9, maxNewTokens: maxNew, reward: reward, ignoreEos: true)
            .Decode(prompts).ToArray();
        Assert.All(results, r => Assert.Equal(maxNew, r.Tokens.Length));
        AssertCacheReused(results, prompts.Sum(p => p.Length), prompts.Length * chains, steps, maxNew);
    }

    [Fact]
    public void A_prompt_draws_the_same_chain_alone_in_a_batch_or_with_fewer_steps()
    {
        var options = new QAlignOptions { Steps = 8, ChainsPerPrompt = 2 };
        var alone = Run(options, [Bos])[0];
        var batched = Run(options, [Bos, [ToyWorld.Bos, ToyWorld.A], [ToyWorld.Bos, ToyWorld.C]])[0];
        var shorter = Run(options with { Steps = 3 }, [Bos])[0];
        var reseeded = Run(options, Enumerable.Repeat(Bos, 8).ToArray(), seed: 4);
        static string Describe(IEnumerable<CandidateTrace> c) => string.Join(" | ", c.Select(x => $"{ToyWorld.Text(x.Tokens)}:{x.Reward}:{x.Accepted}"));
        Assert.Equal(Describe(alone.Trace.Candidates), Describe(batched.Trace.Candidates));
        Assert.Equal(alone.Trace.RegeneratedTokens, batched.Trace.RegeneratedTokens);
        Assert.Equal(Describe(alone.Trace.Candidates.Take(4 * 2)), Describe(shorter.Trace.Candidates));
        Assert.Contains(reseeded, r => Describe(r.Trace.Candidates) != Describe(alone.Trace.Candidates));
    }

    /// <summary>The toy task's answer: the response's first letter, none for an empty response.</summary>
    private static string? FirstLetter(string text) => text.TrimStart().Length > 0 ? text.TrimStart()[..1] : null;

    [Theory]
    [InlineData(QAlignSelection.MajorityVote)]
    [InlineData(QAlignSelection.WeightedVote)]
    public void Votes_pool_the_states_after_burn_in_of_all_chains(QAlignSelection selection)
    {
        const int chains = 3, steps = 8, burnIn = 3;
        const float beta = 0.5f;
        var results = Run(new QAlignOptions { Steps = steps, ChainsPerPrompt = chains, BurnIn = burnIn, Selection = selection, Beta = beta },
            Enumerable.Repeat(Bos, 40).ToArray(), extractor: FirstLetter);
        var differsFromLastState = 0;
        foreach (var r in results)
        {
            var c = r.Trace.Candidates;
            Assert.All(c, x => Assert.Equal(FirstLetter(x.Text), x.Answer));
            var pool = c.Skip(burnIn * chains).ToList();
            var maxR = pool.Max(x => x.Reward!.Value);
            var mass = pool.Where(x => x.Answer is not null).GroupBy(x => x.Answer!)
                .Select(g => (Answer: g.Key, First: pool.FindIndex(x => x.Answer == g.Key),
                    Mass: selection == QAlignSelection.MajorityVote ? g.Count() : g.Sum(x => Math.Exp((x.Reward!.Value - maxR) / beta))))
                .OrderByDescending(x => x.Mass).ThenBy(x => x.First).ToList();
            var winner = mass.Count == 0 ? null : mass[0].Answer;
            if (mass.Count > 1 && selection == QAlignSelection.WeightedVote && mass[1].Mass > mass[0].Mass * (1 - 1e-5)) continue; // too close for float masses
            Assert.Equal(winner, FirstLetter(r.Text));
            // The latest pooled state with the winning answer (earlier chains first within a step).
            var latest = Enumerable.Range(0, pool.Count).Select(i => (Step: i / chains, Chain: i % chains, State: pool[i]))
                .Where(x => x.State.Answer == winner).OrderByDescending(x => x.Step).ThenBy(x => x.Chain).First().State;
            Assert.Equal(latest.Tokens, r.Tokens);
            Assert.Equal(latest.Reward, r.Reward);
            if (!r.Tokens.SequenceEqual(c[steps * chains].Tokens)) differsFromLastState++;
        }
        Assert.True(differsFromLastState > 0, "votes should sometimes pick another state than chain 0's last one");
    }

    [Fact]
    public void Cancelling_in_a_reward_call_finishes_that_step_and_returns_the_states_marked_cancelled()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        using var cts = new CancellationTokenSource();
        var calls = 0;
        var reward = QAlignDefinitionTests.RewardModel(onScore: () => { if (++calls == 3 * 2) cts.Cancel(); }); // 2 chains: the 3rd call's last query
        var results = Create(lm, kernels, new QAlignOptions { Steps = 10, ChainsPerPrompt = 2 }, reward: reward).Decode([Bos], cts.Token);
        var r = results[0];
        Assert.Equal(3 * 2, r.Trace.Candidates.Count); // y⁰ and two steps
        Assert.Equal(2, r.Trace.RegeneratedTokens!.Count);
        Assert.Equal(FinishReason.Cancelled, r.Finish); // the search stopped early, so the result says it is partial
        Assert.Equal(r.Trace.Candidates[2 * 2].Tokens, r.Tokens);
        Assert.NotNull(r.Reward);
    }

    [Fact]
    public void Cancelling_during_regeneration_drops_the_proposals_within_one_token_step()
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        using var cts = new CancellationTokenSource();
        var logitCalls = 0;
        var afterCancel = -1;
        using var lm = new LanguageModel(new ToyLm(ToyWorld.LmInfo(64), prefix =>
        {
            if (cts.IsCancellationRequested) afterCancel++;
            else if (++logitCalls == 400) { cts.Cancel(); afterCancel = 0; }
            return ToyWorld.Logits(prefix);
        }), ToyWorld.Tokenizer);
        var strategy = Create(lm, kernels, new QAlignOptions { Steps = 1000, ChainsPerPrompt = 2 }, maxNewTokens: 12);
        var results = strategy.Decode([Bos, Bos], cts.Token);
        Assert.InRange(afterCancel, 0, 2 * 2 * 2 - 1); // only the rest of the forward call in flight (at most 2K rows)
        foreach (var r in results)
        {
            Assert.InRange(r.Trace.Candidates.Count, 2 * 2, 1000 * 2); // cancelled in some MCMC step, not in the first sample
            Assert.Equal(r.Trace.Candidates.Count / 2 - 1, r.Trace.RegeneratedTokens!.Count);
            Assert.Equal(FinishReason.Cancelled, r.Finish);
            Assert.NotNull(r.Reward);
        }
    }

    [Fact]
    public void Cancelling_the_first_sample_returns_partial_unscored_responses()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Create(lm, kernels, new QAlignOptions()).Decode([Bos, Bos], new CancellationToken(canceled: true));
        Assert.All(results, r =>
        {
            Assert.Equal(FinishReason.Cancelled, r.Finish);
            Assert.Null(r.Reward);
            Assert.Single(r.Trace.Candidates);
            Assert.Null(r.Trace.AcceptanceRate);
        });
    }

    public static TheoryData<string, QAlignOptions> InvalidOptions => new()
    {
        { "beta must be > 0 (got 0)", new QAlignOptions { Beta = 0 } },
        { "beta must be > 0 (got -1)", new QAlignOptions { Beta = -1 } },
        { "beta must be finite", new QAlignOptions { Beta = float.PositiveInfinity } },
        { "steps must be >= 1", new QAlignOptions { Steps = 0 } },
        { "burn-in 20 must be < steps 16", new QAlignOptions { BurnIn = 20 } },
        { "burn-in 16 must be < steps 16", new QAlignOptions { BurnIn = 16 } },
        { "burn-in must be >= 0 (got -1)", new QAlignOptions { BurnIn = -1 } },
        { "chains per prompt must be >= 1 (got 0)", new QAlignOptions { ChainsPerPrompt = 0 } },
        { "unknown qalign selection", new QAlignOptions { Selection = (QAlignSelection)7 } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_are_rejected_before_any_model_runs(string message, QAlignOptions options)
    {
        var forwards = 0;
        using var lm = new LanguageModel(new ToyLm(ToyWorld.LmInfo(), p => { forwards++; return ToyWorld.Logits(p); }), ToyWorld.Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var e = Assert.Throws<ArgumentException>(() => Create(lm, kernels, options));
        Assert.Contains(message, e.Message);
        Assert.Equal(0, forwards);
    }

    [Fact]
    public void Missing_potentials_and_greedy_sampling_are_rejected()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var generation = new GenerationOptions();
        var e = Assert.Throws<ArgumentException>(() => new QAlignStrategy(lm, kernels, generation, Potentials.None, new QAlignOptions()));
        Assert.Equal("strategy 'qalign' needs a reward model (Potentials.Reward)", e.Message);
        var reward = new Potentials { Reward = QAlignDefinitionTests.RewardModel() };
        foreach (var selection in new[] { QAlignSelection.MajorityVote, QAlignSelection.WeightedVote })
        {
            e = Assert.Throws<ArgumentException>(() => new QAlignStrategy(lm, kernels, generation, reward, new QAlignOptions { Selection = selection }));
            Assert.Contains("needs an answer extractor (Potentials.AnswerExtractor)", e.Message);
        }
        e = Assert.Throws<ArgumentException>(() => new QAlignStrategy(lm, kernels, generation with { Sampling = new SamplingParameters { Temperature = 0 } }, reward, new QAlignOptions()));
        Assert.Contains("temperature > 0", e.Message);
        Assert.Throws<ArgumentException>(() => new QAlignStrategy(lm, kernels, generation with { MaxNewTokens = 0 }, reward, new QAlignOptions()));
    }
}
