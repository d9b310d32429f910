using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Guided;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Search;

/// <summary>
/// DeAL against its definition on the toy world, by an independent enumeration of the search: each step expands every
/// unfinished beam's top-k tokens, rolls each candidate out greedily for l tokens, scores c = log P(y₁..t) + λ·h(y₁..t+l)
/// and keeps the best b of the candidates and the finished beams. With l = 0 and λ = 0 that is beam search on log P.
/// </summary>
public sealed class DealDefinitionTests
{
    private const int MaxNew = 5;
    private static readonly int[][] Prompts = [[Bos], [Bos, A], [Bos, C, B], [Bos, B, B, A], [Bos, C]];

    /// <summary>The toy LM's logits with small irregular offsets, so that no two search paths tie (float and double rankings agree).</summary>
    private static float[] Logits(IReadOnlyList<int> prefix)
    {
        var l = ToyWorld.Logits(prefix);
        for (var t = 0; t < l.Length; t++)
            if (float.IsFinite(l[t])) l[t] += 0.0313f * (t + 1) * ((prefix.Count * 7 + prefix[^1] * 3 + t) % 5 + 1) / 7f;
        return l;
    }

    private static LanguageModel CreateLm() => new(new ToyLm(LmInfo(64), Logits), Tokenizer);

    private static DealStrategy Create(LanguageModel lm, ITokenKernels kernels, int k, int l, int b, float lambda, ToyScorer? scorer = null) =>
        new(lm, kernels, new GenerationOptions { MaxNewTokens = MaxNew }, new Potentials { PrefixScorer = scorer ?? GuidedToy.Scorer(64) },
            new DealOptions { TopK = k, Lookahead = l, Beams = b, Lambda = lambda });

    private sealed record Hyp(int[] Tokens, double LogP, double Score, bool Done);

    /// <summary>
    /// The search by enumeration. <paramref name="logProbOf"/> scores a token at a state (log-softmax of the logits;
    /// wrong formulas substitute others); h is the toy prefix reward of the rollout (with EOS where it ended on one).
    /// </summary>
    private static Hyp[] Search(int[] prompt, int k, int l, int b, double lambda, Func<int[], double[]>? logProbOf = null, bool rewardOnly = false, bool noLookahead = false)
    {
        logProbOf ??= s => LogSoftmax(Logits(s));
        var beams = new List<Hyp> { new([], 0, 0, false) };
        while (beams.Any(x => !x.Done))
        {
            var pool = beams.Where(x => x.Done).ToList();
            foreach (var beam in beams.Where(x => !x.Done))
            {
                int[] state = [.. prompt, .. beam.Tokens];
                var lp = logProbOf(state);
                var top = Enumerable.Range(0, Vocab).Where(t => double.IsFinite(lp[t])).OrderByDescending(t => lp[t]).ThenBy(t => t).Take(k);
                foreach (var z in top)
                {
                    var logP = beam.LogP + lp[z];
                    var isEos = z == Eos;
                    int[] tokens = isEos ? beam.Tokens : [.. beam.Tokens, z];
                    double h = 0;
                    if (lambda > 0)
                    {
                        int[] run = isEos ? [.. state, Eos] : [.. state, z];
                        var left = isEos || noLookahead ? 0 : Math.Min(l, MaxNew - tokens.Length);
                        for (var i = 0; i < left; i++)
                        {
                            var logits = Logits(run);
                            var next = Array.IndexOf(logits, logits.Max());
                            run = [.. run, next];
                            if (next == Eos) break;
                        }
                        h = GuidedToy.Reward(run);
                    }
                    pool.Add(new Hyp(tokens, logP, (rewardOnly ? 0 : logP) + lambda * h, isEos || tokens.Length == MaxNew));
                }
            }
            beams = pool.OrderByDescending(x => x.Score).Take(b).ToList();
        }
        return [.. beams];
    }

    private static double[] LogSoftmax(float[] logits) => ToyWorld.LogSoftmax(logits);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    public void With_no_lookahead_and_no_heuristic_it_is_beam_search_on_log_p(int k, int b)
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Create(lm, kernels, k, l: 0, b, lambda: 0).Decode(Prompts);
        for (var i = 0; i < Prompts.Length; i++)
        {
            var expected = Search(Prompts[i], k, 0, b, 0);
            Assert.Equal(expected[0].Tokens, results[i].Tokens);
            Assert.Equal(expected.Select(x => Text(x.Tokens)), results[i].Trace.Candidates.Select(c => Text(c.Tokens)));
            Assert.Equal(expected[0].Tokens.Length == MaxNew ? FinishReason.MaxTokens : FinishReason.EndOfSequence, results[i].Finish);
        }
    }

    [Theory]
    [InlineData(2, 2, 2, 1.5f)]
    [InlineData(4, 3, 2, 1.0f)]
    [InlineData(3, 1, 3, 2.5f)]
    [InlineData(4, 2, 1, 0.7f)]
    public void With_a_heuristic_it_keeps_the_argmax_of_c_over_every_expanded_set(int k, int l, int b, float lambda)
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Create(lm, kernels, k, l, b, lambda).Decode(Prompts);
        for (var i = 0; i < Prompts.Length; i++)
        {
            var expected = Search(Prompts[i], k, l, b, lambda);
            Assert.Equal(expected.Select(x => Text(x.Tokens)), results[i].Trace.Candidates.Select(c => Text(c.Tokens)));
            Assert.Equal(expected[0].Tokens, results[i].Tokens);
        }
    }

    [Fact]
    public void The_check_tells_the_right_formula_from_wrong_ones()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        const int k = 4, l = 2, b = 2;
        const float lambda = 1.5f;
        var outputs = Create(lm, kernels, k, l, b, lambda).Decode(Prompts).Select(r => Text(r.Tokens)).ToArray();
        bool Matches(Func<int[], Hyp[]> search) => Prompts.Select((p, i) => Text(search(p)[0].Tokens) == outputs[i]).All(x => x);

        Assert.True(Matches(p => Search(p, k, l, b, lambda)));
        Assert.False(Matches(p => Search(p, k, l, b, lambda, rewardOnly: true)), "ranking by the reward alone (AISteer360's variant)");
        Assert.False(Matches(p => Search(p, k, l, b, lambda, noLookahead: true)), "heuristic without the lookahead");
        Assert.False(Matches(p => Search(p, k, l, b, lambda, logProbOf: s => Logits(s).Select(x => (double)x).ToArray())), "raw logits for log P");
        Assert.False(Matches(p => Search(p, k, l, b, 0.3)), "wrong λ");
        Assert.False(Matches(p => Search(p, k, l, 1, lambda)), "one beam");
    }

    [Fact]
    public void Beam_search_check_tells_log_p_from_raw_logits()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var outputs = Create(lm, kernels, 3, 0, 3, 0).Decode(Prompts).Select(r => Text(r.Tokens)).ToArray();
        var raw = Prompts.Select(p => Text(Search(p, 3, 0, 3, 0, s => Logits(s).Select(x => (double)x).ToArray())[0].Tokens)).ToArray();
        var greedy = Prompts.Select(p => Text(Search(p, 1, 0, 1, 0)[0].Tokens)).ToArray();
        Assert.NotEqual(raw, outputs);
        Assert.NotEqual(greedy, outputs);
    }

    [Fact]
    public void A_required_keyword_reward_raises_coverage_over_beam_search()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        // Text reward: 1 when the response contains "bc" (the toy tokenizer may separate letters, so read letters only).
        var keyword = new ToyScorer(ToyInfo.Create(Models.DecoderOutputKind.Scores, Vocab, 64, Eos, "toy-keyword"), _ => 0,
            q => q.Response.Replace(" ", "").Contains("bc") ? 1f : 0f);
        var options = new DealOptions { TopK = 4, Lookahead = 3, Beams = 2, Lambda = 5 };
        var generation = new GenerationOptions { MaxNewTokens = MaxNew };
        var guided = new DealStrategy(lm, kernels, generation, new Potentials { Reward = keyword }, options).Decode(Prompts);
        var plain = new DealStrategy(lm, kernels, generation, Potentials.None, options with { Lambda = 0 }).Decode(Prompts);
        int Covered(IReadOnlyList<DecodeResult> rs) => rs.Count(r => r.Text.Replace(" ", "").Contains("bc"));
        Assert.True(Covered(guided) > Covered(plain) + 1, $"keyword coverage {Covered(guided)} with the reward vs {Covered(plain)} without");
    }

    [Fact]
    public void A_prompt_decodes_the_same_alone_or_in_a_batch_and_cancellation_returns_partial_results()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = Create(lm, kernels, 3, 2, 2, 1.5f);
        var batch = strategy.Decode(Prompts);
        for (var i = 0; i < Prompts.Length; i++) Assert.Equal(batch[i].Tokens, strategy.Decode([Prompts[i]])[0].Tokens);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var partial = strategy.Decode(Prompts, cancelled.Token);
        Assert.All(partial, r => Assert.Equal(FinishReason.Cancelled, r.Finish));
    }
}
