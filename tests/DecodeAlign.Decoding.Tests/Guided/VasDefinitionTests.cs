using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Rewards;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// VAS draws each token from softmax((logit + Σ_j β_j (V_j − mean over the top-k of V_j)) / τ) on the top-k and
/// softmax(logit / τ) weight elsewhere, checked per step at toy states with two value models of different β.
/// </summary>
public sealed class VasDefinitionTests
{
    private const int Copies = 8_000;
    private const float Beta1 = 1.4f, Beta2 = 0.6f;

    private static VasStrategy Create(LanguageModel lm, ITokenKernels kernels, Potentials potentials, int topK = 2, float temperature = 1f,
        int maxNewTokens = 1, ulong seed = 11, IReadOnlyList<string>? stops = null) =>
        new(lm, kernels, new GenerationOptions
        {
            MaxNewTokens = maxNewTokens,
            Sampling = new SamplingParameters { Seed = seed },
            StopStrings = stops ?? [],
        }, potentials, new VasOptions { TopK = topK, Temperature = temperature });

    private static Potentials TwoValues(float beta1 = Beta1, float beta2 = Beta2) => new()
    {
        Values = [new WeightedValueModel(GuidedToy.Value(GuidedToy.Values1, "v1"), beta1), new WeightedValueModel(GuidedToy.Value(GuidedToy.Values2, "v2"), beta2)],
    };

    /// <summary>The VAS next-token distribution at state <paramref name="s"/>, or a deliberately wrong variant of it.</summary>
    private static double[] Target(int[] s, int k, float temperature, float beta1 = Beta1, float beta2 = Beta2,
        bool centred = true, bool keepOutside = true, bool onlyTopK = true)
    {
        var logits = Logits(s);
        var top = onlyTopK ? GuidedToy.TopK(logits, k) : Enumerable.Range(0, Vocab).Where(a => float.IsFinite(logits[a])).ToArray();
        double[] v1 = [.. GuidedToy.Values1(s).Select(x => (double)x)], v2 = [.. GuidedToy.Values2(s).Select(x => (double)x)];
        double mean1 = centred ? top.Average(a => v1[a]) : 0, mean2 = centred ? top.Average(a => v2[a]) : 0;
        var augmented = logits.Select(x => keepOutside ? (double)x : double.NegativeInfinity).ToArray();
        foreach (var a in top) augmented[a] = logits[a] + beta1 * (v1[a] - mean1) + beta2 * (v2[a] - mean2);
        return GuidedToy.Softmax(augmented.Select(x => x / temperature).ToArray());
    }

    [Theory]
    [InlineData(2, 1.0f)]
    [InlineData(3, 0.7f)]
    public void Token_distribution_matches_the_value_augmented_softmax(int k, float temperature)
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var counts = GuidedToy.CountNextTokens(Create(lm, kernels, TwoValues(), k, temperature), Copies);
        var p = GuidedToy.MinPValue(counts, s => Target(s, k, temperature));
        Assert.True(p > 1e-3, $"min p over states = {p:G3}");
    }

    [Fact]
    public void Wrong_formulas_fail_the_same_test()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var counts = GuidedToy.CountNextTokens(Create(lm, kernels, TwoValues(), topK: 2), Copies);
        Assert.True(GuidedToy.MinPValue(counts, s => Target(s, 2, 1f)) > 1e-3);
        Assert.True(GuidedToy.MinPValue(counts, s => Target(s, 2, 1f, centred: false)) < 1e-6, "uncentred values");
        Assert.True(GuidedToy.MinPValue(counts, s => Target(s, 2, 1f, beta1: Beta2, beta2: Beta1)) < 1e-6, "β swapped between the value models");
        Assert.True(GuidedToy.MinPValue(counts, s => Target(s, 2, 1f, keepOutside: false)) < 1e-6, "tokens outside the top-k dropped");
        Assert.True(GuidedToy.MinPValue(counts, s => Target(s, 2, 1f, onlyTopK: false)) < 1e-6, "values added to every token");
    }

    [Fact]
    public void A_scalar_value_head_gives_the_same_tokens_as_a_vocabulary_wide_head()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var wide = new Potentials { Values = [new WeightedValueModel(GuidedToy.Value(GuidedToy.Values1, "v1"), Beta1)] };
        var scalar = new Potentials { Values = [new WeightedValueModel(new ScalarToyValueModel(t => GuidedToy.Values1(t.Take(t.Count - 1).ToArray())[t[^1]]), Beta1)] };
        var prompts = Enumerable.Repeat(new[] { Bos }, 200).ToArray();
        var a = Create(lm, kernels, wide, maxNewTokens: MaxLength).Decode(prompts);
        var b = Create(lm, kernels, scalar, maxNewTokens: MaxLength).Decode(prompts);
        Assert.Equal(a.Select(r => Text(r.Tokens)), b.Select(r => Text(r.Tokens)));
    }

    [Fact]
    public void One_value_step_per_token_with_the_batch_in_lockstep_and_results_independent_of_the_batch()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        int[][] prompts = [[Bos], [Bos, C], [Bos, A, B], [Bos]];
        var strategy = Create(lm, kernels, TwoValues(), maxNewTokens: 5);
        var batch = strategy.Decode(prompts);
        var compute = batch[0].Trace.Compute;
        Assert.Equal("vas", batch[0].Trace.Strategy);
        Assert.Equal(2 * compute.LmCalls, compute.RewardCalls); // two value models, one step each per LM step
        Assert.Equal(batch.Sum(r => r.Tokens.Length), compute.GeneratedTokens);
        Assert.Equal(batch.Max(r => r.Tokens.Length + (r.Finish == FinishReason.EndOfSequence ? 1 : 0)), compute.LmCalls);
        for (var i = 0; i < prompts.Length; i++)
        {
            var alone = new VasStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 5, Sampling = new SamplingParameters { Seed = 11 } }, TwoValues(),
                new VasOptions { TopK = 2 }).Decode([.. Enumerable.Repeat(new[] { Bos }, i), prompts[i]])[i];
            Assert.Equal(batch[i].Tokens, alone.Tokens);
            Assert.Equal(batch[i].Finish, alone.Finish);
        }
    }

    [Fact]
    public void Greedy_vas_takes_the_argmax_of_the_augmented_logits_at_every_step()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var r = Create(lm, kernels, TwoValues(), topK: 3, temperature: 0, maxNewTokens: 6).Decode([[Bos]])[0];
        var prefix = new List<int> { Bos };
        foreach (var t in r.Tokens.Append(Eos).Take(6))
        {
            var p = Target([.. prefix], 3, 1f);
            Assert.Equal(Array.IndexOf(p, p.Max()), t);
            var sorted = p.OrderDescending().ToArray();
            Assert.True(sorted[0] - sorted[1] > 1e-4, "a near tie would make the check ill-posed");
            prefix.Add(t);
        }
    }

    [Fact]
    public void Stop_strings_end_the_response_and_are_cut()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var results = Create(lm, kernels, TwoValues(), maxNewTokens: 8, stops: ["b"]).Decode(Enumerable.Repeat(new[] { Bos }, 50).ToArray());
        Assert.Contains(results, r => r.Finish == FinishReason.StopString);
        foreach (var r in results.Where(r => r.Finish == FinishReason.StopString))
        {
            Assert.Equal(B, r.Tokens[^1]);
            var full = Tokenizer.Decode(r.Tokens);
            Assert.Equal(full[..full.IndexOf('b')], r.Text);
        }
    }

    [Fact]
    public void Cancellation_stops_within_one_step()
    {
        using var cts = new CancellationTokenSource();
        // The LM cancels when asked for the logits after 2 generated tokens: the value models' call in that step stops.
        using var lm = new LanguageModel(new ToyLm(LmInfo(64), t =>
        {
            if (t.Count == 3) cts.Cancel();
            return Logits(t);
        }), Tokenizer);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new VasStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 50, IgnoreEos = true }, TwoValues(), new VasOptions { TopK = 2 });
        var r = strategy.Decode([[Bos]], cts.Token)[0];
        Assert.Equal(FinishReason.Cancelled, r.Finish);
        Assert.Equal(2, r.Tokens.Length);
    }

    [Fact]
    public void Invalid_options_and_potentials_are_rejected_before_any_model_runs()
    {
        using var lm = CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var g = new GenerationOptions();
        Assert.Equal("top-k 6 exceeds the vocabulary (5)",
            Assert.Throws<ArgumentException>(() => new VasStrategy(lm, kernels, g, TwoValues(), new VasOptions { TopK = 6 })).Message);
        Assert.Equal("beta must be > 0 and finite (got -1)",
            Assert.Throws<ArgumentException>(() => new VasStrategy(lm, kernels, g, TwoValues(beta2: -1), new VasOptions { TopK = 2 })).Message);
        Assert.Equal("strategy 'vas' needs at least one value model (Potentials.Values)",
            Assert.Throws<ArgumentException>(() => new VasStrategy(lm, kernels, g, Potentials.None, new VasOptions { TopK = 2 })).Message);
        Assert.Throws<ArgumentException>(() => new VasStrategy(lm, kernels, g, TwoValues(), new VasOptions { TopK = 2, Temperature = -1 }));
        var otherVocab = new ToyValueModel(ToyInfo.Create(Models.DecoderOutputKind.Values, 7, 16, Eos, "v7"), _ => new float[7]);
        Assert.Contains("vocabulary of 7 tokens",
            Assert.Throws<ArgumentException>(() => new VasStrategy(lm, kernels, g, new Potentials { Values = [new(otherVocab, 1f)] }, new VasOptions { TopK = 2 })).Message);
    }
}
