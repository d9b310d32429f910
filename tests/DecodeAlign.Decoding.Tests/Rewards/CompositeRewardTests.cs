using DecodeAlign.Decoding.Rewards;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Guided;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Rewards;

/// <summary>
/// A composite reward is the weighted sum of its parts, at the text level and at the prefix level, through every
/// session operation, and its candidate session agrees with scoring k candidate rows.
/// </summary>
public sealed class CompositeRewardTests
{
    private const float Tolerance = 1e-5f;

    /// <summary>A learned-style part on the toy world with a vocabulary-wide candidate head.</summary>
    private sealed class ToyHeadScorer : IRewardModel, IPrefixScorer
    {
        public DecoderInfo Info { get; } = ToyInfo.Create(DecoderOutputKind.Scores, Vocab, 16, Eos, "toy-head");

        public string Source => Info.Source;

        public IDecoderSession CreateSession() => new FunctionDecoderSession(Info, t => [GuidedToy.Reward(t)]);

        public IDecoderSession? CreateCandidateSession() =>
            new FunctionDecoderSession(Info with { Output = DecoderOutputKind.Values, OutputWidth = Vocab },
                t => Enumerable.Range(0, Vocab).Select(v => GuidedToy.Reward([.. t, v])).ToArray());

        public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default) =>
            queries.Select(q => 0.3f * q.Response.Length - q.Prompt.Length).ToArray();

        public void Dispose() { }
    }

    /// <summary>A reward model that only scores whole responses.</summary>
    private sealed class WholeOnly : IRewardModel
    {
        public string Source => "whole-only";

        public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default) => new float[queries.Count];

        public void Dispose() { }
    }

    private static readonly TextReward Letters = new FunctionReward("letters",
        (_, r) => r.Count(c => c == 'a') - r.Count(c => c == 'b'),
        (_, r) => 0.5f * r.Count(c => c == 'a') - r.Count(c => c == 'c') + 0.1f * r.Length);

    private static readonly ToyHeadScorer Learned = new();

    private static WeightedReward[] Terms() =>
        [new(Learned, 0.7f), new(Letters, 1.3f), new(KeywordReward.Forbidden("b a"), -0.5f), new(new LengthReward(3), 0.25f), new(new CalcReward(), 2f)];

    /// <summary>The toy response text the strategies see: letters joined by spaces, after a space when the prompt has text.</summary>
    private static (string Prompt, string Response) Texts(IReadOnlyList<int> prompt, IReadOnlyList<int> response)
    {
        var p = Text(prompt.Where(t => t < Bos));
        var letters = string.Join(" ", response.Where(t => t < Bos).Select(t => "abc"[t].ToString()));
        return (string.Join(" ", p.Select(ch => ch.ToString())), p.Length > 0 && letters.Length > 0 ? " " + letters : letters);
    }

    /// <summary>Σ w·part for a row added as <paramref name="prompt"/> and grown by <paramref name="response"/>.</summary>
    private static float Expected(IReadOnlyList<int> prompt, IReadOnlyList<int> response, bool learned = true)
    {
        var (p, r) = Texts(prompt, response);
        var sum = learned ? 0.7f * GuidedToy.Reward([.. prompt, .. response]) : 0f;
        foreach (var t in Terms().Skip(1)) sum += t.Weight * ((TextReward)t.Reward).ScorePrefix(p, r);
        return sum;
    }

    [Fact]
    public void Text_score_is_the_weighted_sum_of_the_parts()
    {
        using var composite = new CompositeReward(Terms());
        RewardQuery[] queries = [new("", "a b a"), new("c", " b b c"), new("", ""), new("a", " 2 + 2 = 5. c")];
        var total = composite.Score(queries);
        for (var i = 0; i < queries.Length; i++)
        {
            var expected = Terms().Sum(t => t.Weight * t.Reward.Score([queries[i]])[0]);
            Assert.Equal(expected, total[i], Tolerance);
        }
        Assert.Equal("toy-head=0.7,letters=1.3,keyword:!b a=-0.5,length:3=0.25,calc=2", composite.Source);
    }

    [Fact]
    public void Prefix_scores_are_the_weighted_sum_through_select_truncate_and_rewind()
    {
        using var lm = CreateLm();
        using var composite = new CompositeReward(Terms(), lm);
        Assert.True(composite.ScoresPrefixes);
        using var session = composite.CreateSession();
        Assert.Equal(1, session.Info.OutputWidth);
        var calls = 0;
        var prompts = new List<int[]> { new[] { Bos }, new[] { Bos, B } };
        var responses = new List<List<int>> { new(), new() };
        foreach (var p in prompts) session.AddRow(p);
        Check();

        session.Select([0, 0, 1]);
        prompts = [prompts[0], prompts[0], prompts[1]];
        responses = [[], [], []];
        session.AppendToAll([A, C, B]);
        session.Append(0, [B, A]);
        responses[0].AddRange([A, B, A]);
        responses[1].Add(C);
        responses[2].Add(B);
        Check();

        session.Truncate(0, 3); // back to [BOS, a, b]
        responses[0].RemoveAt(2);
        session.Append(1, [C, A]);
        responses[1].AddRange([C, A]);
        Check();

        // A speculative step undone: the row returns to the output it had, whether or not it was saved.
        var before = session.Forward().Row(2)[0];
        session.Append(2, [A]);
        session.Forward();
        calls += 2;
        session.Rewind(2, 3, [before]);
        Check();
        session.Rewind(0, 1, [0f]);
        responses[0].Clear();
        Check();

        // k candidates per row, against the rows extended one by one.
        int[] rows = [0, 1, 2];
        int[] candidates = [A, B, C, C, Eos, A, B, B, A];
        var scored = session.ForwardCandidates(rows, candidates);
        calls++;
        for (var i = 0; i < candidates.Length; i++)
            Assert.Equal(Expected(prompts[rows[i / 3]], [.. responses[rows[i / 3]], candidates[i]]), scored.Row(i)[0], Tolerance);
        Check(); // ForwardCandidates leaves the session unchanged

        // The learned part's calls are counted: one per Forward and ForwardCandidates above.
        Assert.Equal(calls, session.Telemetry.ModelCalls);
        Assert.True(session.Telemetry.TokensComputed > 0);

        void Check()
        {
            var outputs = session.Forward();
            calls++;
            Assert.Equal(prompts.Count, outputs.Rows);
            for (var r = 0; r < prompts.Count; r++)
            {
                Assert.Equal([.. prompts[r], .. responses[r]], session.GetTokens(r).ToArray());
                Assert.Equal(Expected(prompts[r], responses[r]), outputs.Row(r)[0], Tolerance);
            }
        }
    }

    [Fact]
    public void Candidate_session_equals_k_candidate_rows_and_the_weighted_sum()
    {
        using var lm = CreateLm();
        using var composite = new CompositeReward(Terms(), lm);
        using var wide = composite.CreateCandidateSession()!;
        using var rows = composite.CreateSession();
        Assert.Equal(Vocab, wide.Info.OutputWidth);
        int[][] prompts = [[Bos], [Bos, C], [Bos, A, B]];
        foreach (var p in prompts)
        {
            wide.AddRow(p);
            rows.AddRow(p);
        }
        var allTokens = Enumerable.Range(0, Vocab).ToArray();
        for (var step = 0; step < 3; step++)
        {
            var all = wide.Forward();
            var k = rows.ForwardCandidates([0, 1, 2], [.. allTokens, .. allTokens, .. allTokens]);
            for (var r = 0; r < prompts.Length; r++)
            {
                var response = wide.GetTokens(r)[prompts[r].Length..].ToArray();
                for (var v = 0; v < Vocab; v++)
                {
                    Assert.Equal(k.Row(r * Vocab + v)[0], all.Row(r)[v], Tolerance);
                    Assert.Equal(Expected(prompts[r], [.. response, v]), all.Row(r)[v], Tolerance);
                }
            }
            int[] next = [(step + 0) % 3, (step + 1) % 3, (step + 2) % 3];
            wide.AppendToAll(next);
            rows.AppendToAll(next);
            if (step == 1)
            {
                wide.Select([2, 1, 0]);
                rows.Select([2, 1, 0]);
                prompts = [prompts[2], prompts[1], prompts[0]];
            }
        }
    }

    [Fact]
    public void A_programmatic_only_composite_is_a_prefix_scorer_in_the_lm_token_space()
    {
        using var lm = CreateLm();
        // +2 per b in the prefix: ARGS (w = 1) overturns the LM's preferences towards b.
        var bs = new FunctionReward("b", (_, r) => r.Count(c => c == 'b'), (_, r) => 2f * r.Count(c => c == 'b'));
        using var composite = new CompositeReward([new(bs, 1f)], lm);
        Assert.Equal(Vocab, composite.Info.VocabSize);
        Assert.Equal(1, composite.Info.OutputWidth);
        Assert.Equal(lm.Lm.Info.ContextLength, composite.Info.ContextLength);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var args = new ArgsStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = MaxLength, Sampling = new SamplingParameters { Seed = 1 } },
            new Potentials { PrefixScorer = composite }, new ArgsOptions { TopK = 4, Weight = 1f });
        var result = args.Decode([[Bos], [Bos, A]]);
        Assert.All(result, r => Assert.Equal([B, B, B], r.Tokens));
        Assert.Equal(0, result[0].Trace.Compute.RewardCalls); // no model ran
    }

    [Fact]
    public void A_csharp_function_reward_decides_best_of_n()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var reward = new FunctionReward("more-c-than-a", (_, r) => r.Count(c => c == 'c') - r.Count(c => c == 'a'));
        var bon = new BestOfNStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = MaxLength, Sampling = new SamplingParameters { Seed = 5 } },
            new Potentials { Reward = reward }, new BestOfNOptions { N = 8 });
        foreach (var r in bon.Decode(ToyPotentials.BosPrompts(20)))
        {
            var candidates = r.Trace.Candidates;
            Assert.Equal(8, candidates.Count);
            Assert.Equal(candidates.Max(c => c.Reward!.Value), r.Reward!.Value);
            Assert.Equal(reward.Score("", r.Text), r.Reward!.Value);
        }
    }

    [Fact]
    public void Composites_that_cannot_score_prefixes_say_why_and_bad_weights_are_rejected()
    {
        using var lm = CreateLm();
        using var whole = new CompositeReward([new(new WholeOnly(), 1f), new(new CalcReward(), 1f)], lm);
        Assert.False(whole.ScoresPrefixes);
        Assert.Contains("whole-only", Assert.Throws<NotSupportedException>(() => whole.CreateSession()).Message);
        using var noLm = new CompositeReward([new(new CalcReward(), 1f)]);
        Assert.Contains("needs the LM", Assert.Throws<NotSupportedException>(() => noLm.CreateSession()).Message);
        Assert.Equal([-1f], noLm.Score([new("", "1 + 1 = 3")])); // still a text reward
        Assert.Throws<ArgumentException>(() => new CompositeReward([new(new CalcReward(), float.NaN)]));
        Assert.Throws<ArgumentException>(() => new CompositeReward([]));
    }
}
