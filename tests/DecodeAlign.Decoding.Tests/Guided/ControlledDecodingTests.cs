using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using Xunit.Abstractions;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// Blockwise controlled decoding keeps, block after block, the continuation with the highest prefix reward among K
/// continuations of M tokens sampled from the LM: checked on the trace, against plain sampling for K = 1, and, for a
/// single block, against the exact best-of-K distribution.
/// </summary>
public sealed class ControlledDecodingTests(ITestOutputHelper output)
{
    private static readonly int[][] Prompts = [[Bos], [Bos, A], [Bos, C, B], [Bos, B, B, A]];

    private static ControlledDecodingStrategy Create(LanguageModel lm, ITokenKernels kernels, int candidates, int blockSize, int maxNewTokens,
        ulong seed = 7, float temperature = 1f, IReadOnlyList<string>? stops = null, bool ignoreEos = false) =>
        new(lm, kernels, new GenerationOptions
        {
            MaxNewTokens = maxNewTokens,
            Sampling = new SamplingParameters { Temperature = temperature, Seed = seed },
            StopStrings = stops ?? [],
            IgnoreEos = ignoreEos,
        }, new Potentials { PrefixScorer = GuidedToy.Scorer(64) }, new ControlledDecodingOptions { Candidates = candidates, BlockSize = blockSize });

    [Fact]
    public void Each_kept_block_is_the_argmax_of_the_scorer_among_its_K_continuations()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        const int K = 3, M = 2;
        var prompts = Enumerable.Range(0, 40).Select(i => Prompts[i % Prompts.Length]).ToArray();
        var results = Create(lm, kernels, K, M, maxNewTokens: 7).Decode(prompts);
        var blocks = 0;
        for (var i = 0; i < prompts.Length; i++)
        {
            var r = results[i];
            var trace = r.Trace.Candidates;
            Assert.Equal("blockwise", r.Trace.Strategy);
            Assert.Equal(0, trace.Count % K);
            var response = new List<int>();
            for (var b = 0; b < trace.Count; b += K)
            {
                var block = trace.Skip(b).Take(K).ToArray();
                foreach (var c in block)
                {
                    Assert.Equal(response, c.Tokens.Take(response.Count));
                    Assert.InRange(c.Tokens.Length - response.Count, 0, M);
                    Assert.Equal(GuidedToy.Reward([.. prompts[i], .. c.Tokens]), c.Reward);
                    Assert.Equal(Tokenizer.Decode(c.Tokens), c.Text);
                }
                var best = block.Select(c => c.Reward!.Value).Max();
                var kept = Array.FindIndex(block, c => c.Reward == best); // ties: the lowest index
                Assert.Equal(Enumerable.Range(0, K).Select(j => j == kept), block.Select(c => c.Accepted!.Value));
                response = [.. block[kept].Tokens];
                blocks++;
            }
            Assert.Equal(response, r.Tokens);
            Assert.Equal(trace.Last(c => c.Accepted == true).Reward, r.Reward);
            Assert.True(r.Finish is FinishReason.EndOfSequence or FinishReason.MaxTokens);
        }
        // The check saw real choices: blocks whose continuations differed in reward.
        Assert.True(blocks > 60, $"{blocks} blocks");
        Assert.Contains(results, r => r.Trace.Candidates.Chunk(K).Any(b => b.Select(c => c.Reward).Distinct().Count() > 1 && b[0].Accepted == false));
    }

    [Fact]
    public void One_candidate_is_plain_sampling_draw_for_draw()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var prompts = Enumerable.Range(0, 100).Select(i => Prompts[i % Prompts.Length]).ToArray();
        var blockwise = Create(lm, kernels, 1, 3, maxNewTokens: 8, temperature: 0.8f).Decode(prompts);
        var sampled = new SamplingStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 8, Sampling = new SamplingParameters { Temperature = 0.8f, Seed = 7 } }).Decode(prompts);
        Assert.Equal(sampled.Select(r => (Text(r.Tokens), r.Finish)), blockwise.Select(r => (Text(r.Tokens), r.Finish)));
    }

    /// <summary>P(kept = y) for one block of K = 2 i.i.d. LM samples with ties to the first: p(y)·(P(R ≤ R(y)) + P(R &lt; R(y))).</summary>
    private static double[] BestOfTwo(List<int[]> responses, double[] p, Func<int[], float> reward, bool argmin = false)
    {
        var r = responses.Select(y => (double)reward(y) * (argmin ? -1 : 1)).ToArray();
        return r.Select((ry, i) => p[i] * (r.Select((x, j) => x <= ry ? p[j] : 0).Sum() + r.Select((x, j) => x < ry ? p[j] : 0).Sum())).ToArray();
    }

    [Fact]
    public void A_single_block_draws_from_the_exact_best_of_K_distribution_and_wrong_ones_fail()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        const int N = 12_000;
        var results = Create(lm, kernels, 2, MaxLength, maxNewTokens: MaxLength).Decode(Enumerable.Repeat(new[] { Bos }, N).ToArray());
        var responses = AllResponses();
        var index = responses.Select((y, i) => (Text(y), i)).ToDictionary(x => x.Item1, x => x.i);
        var counts = new long[responses.Count];
        foreach (var r in results) counts[index[Text(r.Tokens)]]++;
        var p = responses.Select(y => Math.Exp(LogProbability(y))).ToArray();
        Func<int[], float> reward = y => GuidedToy.Reward([Bos, .. y]);
        var right = Statistics.ChiSquare(counts, BestOfTwo(responses, p, reward)).PValue;
        var plain = Statistics.ChiSquare(counts, p).PValue;
        var argmin = Statistics.ChiSquare(counts, BestOfTwo(responses, p, reward, argmin: true)).PValue;
        output.WriteLine($"best-of-2 p = {right:G3}; plain LM p = {plain:G3}; argmin p = {argmin:G3}");
        Assert.True(right > 1e-3, $"p = {right:G3}");
        Assert.True(plain < 1e-6, "no selection");
        Assert.True(argmin < 1e-6, "worst kept");
    }

    [Fact]
    public void Results_do_not_depend_on_the_batch_and_the_scorer_runs_once_per_block()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var batch = Create(lm, kernels, 3, 2, maxNewTokens: 6).Decode(Prompts);
        for (var i = 0; i < Prompts.Length; i++)
        {
            var alone = Create(lm, kernels, 3, 2, maxNewTokens: 6).Decode([.. Enumerable.Repeat(new[] { Bos }, i), Prompts[i]])[i];
            Assert.Equal(batch[i].Tokens, alone.Tokens);
            Assert.Equal(batch[i].Reward, alone.Reward);
        }
        var single = Create(lm, kernels, 3, 2, maxNewTokens: 6).Decode([[Bos, C]])[0];
        var blocks = single.Trace.Candidates.Count / 3;
        Assert.Equal(1 + blocks, single.Trace.Compute.RewardCalls); // prompt prefill + one call per block
        Assert.Equal(single.Trace.Candidates.Sum(c => c.Tokens.Length) - 3 * single.Trace.Candidates.Chunk(3).Skip(1)
            .Zip(single.Trace.Candidates.Chunk(3), (_, previous) => previous.Single(c => c.Accepted == true).Tokens.Length).Sum(), single.Trace.Compute.GeneratedTokens);
    }

    [Fact]
    public void A_continuation_stops_at_a_stop_string_and_the_text_is_cut()
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Create(lm, kernels, 3, 3, maxNewTokens: 9, stops: ["b"]).Decode(Enumerable.Repeat(new[] { Bos }, 30).ToArray());
        Assert.Contains(results, r => r.Finish == FinishReason.StopString);
        foreach (var r in results)
        {
            foreach (var c in r.Trace.Candidates) Assert.True(Array.IndexOf(c.Tokens, B) is -1 || Array.IndexOf(c.Tokens, B) == c.Tokens.Length - 1);
            if (r.Finish != FinishReason.StopString) continue;
            Assert.Equal(B, r.Tokens[^1]);
            var full = Tokenizer.Decode(r.Tokens);
            Assert.Equal(full[..full.IndexOf('b')], r.Text);
        }
    }

    [Fact]
    public void Cancellation_stops_within_one_step_and_returns_the_kept_blocks()
    {
        using var cts = new CancellationTokenSource();
        // Called for a 5-token row inside the second block: the next LM step of that block stops.
        using var lm = new LanguageModel(new ToyLm(LmInfo(64), t =>
        {
            if (t.Count == 5) cts.Cancel();
            return Logits(t);
        }), Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var r = Create(lm, kernels, 2, 3, maxNewTokens: 50, ignoreEos: true).Decode([[Bos]], cts.Token)[0];
        Assert.Equal(FinishReason.Cancelled, r.Finish);
        Assert.Equal(3, r.Tokens.Length);
        Assert.Equal(2, r.Trace.Candidates.Count);
    }

    [Fact]
    public void Invalid_options_and_potentials_are_rejected_before_any_model_runs()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var g = new GenerationOptions();
        var guided = new Potentials { PrefixScorer = GuidedToy.Scorer() };
        Assert.Equal("candidates must be >= 1 (got 0)",
            Assert.Throws<ArgumentException>(() => new ControlledDecodingStrategy(lm, kernels, g, guided, new ControlledDecodingOptions { Candidates = 0 })).Message);
        Assert.Equal("block size must be >= 1 (got -2)",
            Assert.Throws<ArgumentException>(() => new ControlledDecodingStrategy(lm, kernels, g, guided, new ControlledDecodingOptions { BlockSize = -2 })).Message);
        Assert.Equal("strategy 'blockwise' needs a prefix scorer (Potentials.PrefixScorer)",
            Assert.Throws<ArgumentException>(() => new ControlledDecodingStrategy(lm, kernels, g, Potentials.None, new ControlledDecodingOptions())).Message);
        Assert.Throws<ArgumentException>(() => new ControlledDecodingStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 0 }, guided, new ControlledDecodingOptions()));
    }
}
