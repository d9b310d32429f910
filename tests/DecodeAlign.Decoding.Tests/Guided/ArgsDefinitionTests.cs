using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using Xunit.Abstractions;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// ARGS scores the base top-k with s(v) = logit(v) + w·R([x, y&lt;t, v]): greedy takes argmax s at every step (exact,
/// against enumeration), sampled ARGS draws from softmax(s / τ) over the top-k (chi-square at toy states).
/// </summary>
public sealed class ArgsDefinitionTests(ITestOutputHelper output)
{
    private const int Copies = 8_000;
    private static readonly int[][] Prompts = [[Bos], [Bos, A], [Bos, C, B], [Bos, B, B, A]];

    private static ArgsStrategy Create(LanguageModel lm, ITokenKernels kernels, int topK, float weight, float temperature, int maxNewTokens = 1, ulong seed = 3, bool speculate = true) =>
        new(lm, kernels, new GenerationOptions { MaxNewTokens = maxNewTokens, Sampling = new SamplingParameters { Seed = seed } },
            new Potentials { PrefixScorer = GuidedToy.Scorer(64) }, new ArgsOptions { TopK = topK, Weight = weight, Temperature = temperature, Speculate = speculate });

    /// <summary>s(v) for every token at state <paramref name="s"/> (−∞ outside the top-k unless <paramref name="onlyTopK"/> is false).</summary>
    private static double[] Scores(int[] s, int k, float weight, bool onlyTopK = true, bool withLogit = true)
    {
        var logits = Logits(s);
        var top = onlyTopK ? GuidedToy.TopK(logits, k) : Enumerable.Range(0, Vocab).Where(a => float.IsFinite(logits[a])).ToArray();
        var scores = Enumerable.Repeat(double.NegativeInfinity, Vocab).ToArray();
        foreach (var v in top) scores[v] = (withLogit ? logits[v] : 0) + weight * (double)GuidedToy.Reward([.. s, v]);
        return scores;
    }

    private static double[] Target(int[] s, int k, float weight, float temperature, bool onlyTopK = true) =>
        GuidedToy.Softmax(Scores(s, k, weight, onlyTopK).Select(x => x / temperature).ToArray());

    [Theory]
    [InlineData(1, 1.0f)]
    [InlineData(2, 1.5f)]
    [InlineData(3, 0.0f)]
    [InlineData(4, 2.0f)]
    public void Greedy_args_takes_argmax_of_logit_plus_weighted_reward_at_every_step(int k, float weight)
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var prompts = Prompts;
        var results = Create(lm, kernels, k, weight, 0f, maxNewTokens: 10).Decode(prompts);
        for (var i = 0; i < prompts.Length; i++)
        {
            var r = results[i];
            var prefix = prompts[i].ToList();
            var steps = r.Tokens.Append(Eos).Take(10).ToArray();
            foreach (var t in steps)
            {
                var s = Scores([.. prefix], k, weight);
                Assert.Equal(Array.IndexOf(s, s.Max()), t);
                prefix.Add(t);
            }
            Assert.Equal(r.Tokens.Length == 10 ? FinishReason.MaxTokens : FinishReason.EndOfSequence, r.Finish);
            if (r.Tokens.Length > 0) Assert.Equal(GuidedToy.Reward([.. prompts[i], .. r.Tokens]), r.Reward);
        }
    }

    [Fact]
    public void Greedy_check_tells_the_right_formula_from_wrong_ones()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Create(lm, kernels, 3, 1.5f, 0f, maxNewTokens: 10).Decode(Prompts);
        Assert.True(FollowsAll(s => Scores(s, 3, 1.5f)));
        Assert.False(FollowsAll(s => Scores(s, 3, 0f)), "plain top-k greedy (w = 0)");
        Assert.False(FollowsAll(s => Scores(s, 3, 1.5f, withLogit: false)), "reward alone");
        Assert.False(FollowsAll(s => Scores(s, 3, 1.5f, onlyTopK: false)), "every token a candidate");
        Assert.False(FollowsAll(s => Scores(s, 3, 0.5f)), "wrong weight");

        bool FollowsAll(Func<int[], double[]> scores) => results.Select((r, i) => Follows(Prompts[i], r.Tokens, scores)).All(x => x);

        static bool Follows(int[] prompt, int[] tokens, Func<int[], double[]> scores)
        {
            var prefix = prompt.ToList();
            foreach (var t in tokens.Append(Eos).Take(10))
            {
                var s = scores([.. prefix]);
                if (Array.IndexOf(s, s.Max()) != t) return false;
                prefix.Add(t);
            }
            return true;
        }
    }

    [Theory]
    [InlineData(3, 1.5f, 0.7f)]
    [InlineData(4, 1.0f, 1.0f)]
    public void Sampled_args_matches_the_softmax_of_fused_scores_over_the_top_k(int k, float weight, float temperature)
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var counts = GuidedToy.CountNextTokens(Create(lm, kernels, k, weight, temperature), Copies);
        var p = GuidedToy.MinPValue(counts, s => Target(s, k, weight, temperature));
        output.WriteLine($"k={k} w={weight} τ={temperature}: min p over states = {p:G3}");
        Assert.True(p > 1e-3, $"min p over states = {p:G3}");
    }

    [Fact]
    public void Wrong_formulas_fail_the_same_test()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var counts = GuidedToy.CountNextTokens(Create(lm, kernels, 3, 1.5f, 0.7f), Copies);
        var right = GuidedToy.MinPValue(counts, s => Target(s, 3, 1.5f, 0.7f));
        var weight = GuidedToy.MinPValue(counts, s => Target(s, 3, 1.0f, 0.7f));
        var temperature = GuidedToy.MinPValue(counts, s => Target(s, 3, 1.5f, 1.0f));
        var outside = GuidedToy.MinPValue(counts, s => Target(s, 3, 1.5f, 0.7f, onlyTopK: false));
        output.WriteLine($"right {right:G3}, wrong weight {weight:G3}, no temperature {temperature:G3}, every token a candidate {outside:G3}");
        Assert.True(right > 1e-3);
        Assert.True(weight < 1e-6, "wrong weight");
        Assert.True(temperature < 1e-6, "temperature not applied");
        Assert.True(outside < 1e-6, "tokens outside the top-k drawn");
    }

    [Fact]
    public void One_batched_scorer_call_per_step_and_results_independent_of_the_batch()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        int[][] prompts = [[Bos], [Bos, C], [Bos, A, B], [Bos]];
        // Call accounting without speculation (whose look-ahead and rewound steps add LM calls).
        var batch = Create(lm, kernels, 3, 1f, 1f, maxNewTokens: 6, speculate: false).Decode(prompts);
        var compute = batch[0].Trace.Compute;
        Assert.Equal("args", batch[0].Trace.Strategy);
        Assert.Equal(compute.LmCalls, compute.RewardCalls);
        Assert.Equal(batch.Max(r => r.Tokens.Length + (r.Finish == FinishReason.EndOfSequence ? 1 : 0)), compute.LmCalls);
        Assert.Equal(batch.Sum(r => r.Tokens.Length), compute.GeneratedTokens);
        var speculative = Create(lm, kernels, 3, 1f, 1f, maxNewTokens: 6).Decode(prompts);
        Assert.Equal(compute.RewardCalls, speculative[0].Trace.Compute.RewardCalls);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(batch[i].Tokens, speculative[i].Tokens);
            Assert.Equal(batch[i].Reward, speculative[i].Reward);
            var alone = Create(lm, kernels, 3, 1f, 1f, maxNewTokens: 6).Decode([.. Enumerable.Repeat(new[] { Bos }, i), prompts[i]])[i];
            Assert.Equal(batch[i].Tokens, alone.Tokens);
            Assert.Equal(batch[i].Reward, alone.Reward);
        }
    }

    [Fact]
    public void The_context_length_of_the_scorer_limits_the_response()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new ArgsStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 20, IgnoreEos = true },
            new Potentials { PrefixScorer = GuidedToy.Scorer(context: 5) }, new ArgsOptions { TopK = 3 });
        var r = strategy.Decode([[Bos, A]])[0];
        Assert.Equal(3, r.Tokens.Length);
        Assert.Equal(FinishReason.ContextLength, r.Finish);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 2)] // the speculative look-ahead reaches the 4-token prefix one step earlier
    public void Cancellation_stops_within_one_step(bool speculate, int tokens)
    {
        using var cts = new CancellationTokenSource();
        using var lm = new LanguageModel(new ToyLm(LmInfo(64), t =>
        {
            if (t.Count == 4) cts.Cancel();
            return Logits(t);
        }), Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new ArgsStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 50, IgnoreEos = true },
            new Potentials { PrefixScorer = GuidedToy.Scorer(64) }, new ArgsOptions { TopK = 3, Speculate = speculate });
        var r = strategy.Decode([[Bos]], cts.Token)[0];
        Assert.Equal(FinishReason.Cancelled, r.Finish);
        Assert.Equal(tokens, r.Tokens.Length);
    }

    [Fact]
    public void Invalid_options_and_potentials_are_rejected_before_any_model_runs()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var g = new GenerationOptions();
        var guided = new Potentials { PrefixScorer = GuidedToy.Scorer() };
        Assert.Equal("top-k 40 exceeds the vocabulary (5)",
            Assert.Throws<ArgumentException>(() => new ArgsStrategy(lm, kernels, g, guided, new ArgsOptions { TopK = 40 })).Message);
        Assert.Equal("strategy 'args' needs a prefix scorer (Potentials.PrefixScorer)",
            Assert.Throws<ArgumentException>(() => new ArgsStrategy(lm, kernels, g, Potentials.None, new ArgsOptions { TopK = 3 })).Message);
        Assert.Equal("weight must be >= 0 and finite (got -1)",
            Assert.Throws<ArgumentException>(() => new ArgsStrategy(lm, kernels, g, guided, new ArgsOptions { TopK = 3, Weight = -1 })).Message);
        Assert.Throws<ArgumentException>(() => new ArgsStrategy(lm, kernels, g, guided, new ArgsOptions { TopK = 0 }));
        Assert.Throws<ArgumentException>(() => new ArgsStrategy(lm, kernels, g, guided, new ArgsOptions { TopK = 3, Temperature = float.NaN }));
        var otherVocab = new ToyScorer(ToyInfo.Create(DecoderOutputKind.Scores, 9, 16, Eos, "r9"), _ => 0f);
        Assert.Contains("vocabulary of 9 tokens",
            Assert.Throws<ArgumentException>(() => new ArgsStrategy(lm, kernels, g, new Potentials { PrefixScorer = otherVocab }, new ArgsOptions { TopK = 3 })).Message);
    }
}
