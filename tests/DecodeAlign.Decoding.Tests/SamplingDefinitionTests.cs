using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Tests;

/// <summary>Plain sampling draws responses with exactly p_LM(y) (temperature-scaled), checked by enumeration.</summary>
public sealed class SamplingDefinitionTests
{
    private static (long[] Counts, List<int[]> Responses) Sample(float temperature, int n, ulong seed)
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new SamplingStrategy(lm, kernels, new GenerationOptions
        {
            MaxNewTokens = ToyWorld.MaxLength,
            Sampling = new SamplingParameters { Temperature = temperature, Seed = seed },
        });
        var responses = ToyWorld.AllResponses();
        var index = responses.Select((r, i) => (ToyWorld.Text(r), i)).ToDictionary(x => x.Item1, x => x.i);
        var results = strategy.Decode(Enumerable.Repeat(new[] { ToyWorld.Bos }, n).ToArray());
        var counts = new long[responses.Count];
        foreach (var r in results) counts[index[ToyWorld.Text(r.Tokens)]]++;
        return (counts, responses);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.6f)]
    public void Sampled_responses_follow_the_model_distribution(float temperature)
    {
        var (counts, responses) = Sample(temperature, 20_000, seed: 5);
        var p = responses.Select(r => Math.Exp(ToyWorld.LogProbability(r, temperature: temperature))).ToArray();
        Assert.Equal(1.0, p.Sum(), 1e-6); // float32 logits
        var (chi, pValue) = Statistics.ChiSquare(counts, p);
        Assert.True(pValue > 1e-3, $"χ² = {chi:F1}, p = {pValue:G3}");
    }

    [Fact]
    public void A_wrong_temperature_is_detected_by_the_same_test()
    {
        var (counts, responses) = Sample(1.0f, 20_000, seed: 5);
        var wrong = responses.Select(r => Math.Exp(ToyWorld.LogProbability(r, temperature: 0.8f))).ToArray();
        Assert.True(Statistics.ChiSquare(counts, wrong).PValue < 1e-6);
    }

    [Fact]
    public void Greedy_follows_the_argmax_path()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var r = new SamplingStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 8, Sampling = new SamplingParameters { Temperature = 0 } }).Decode([[ToyWorld.Bos]])[0];
        var prefix = new List<int> { ToyWorld.Bos };
        var expected = new List<int>();
        while (expected.Count < 8)
        {
            var l = ToyWorld.Logits(prefix);
            var best = Array.IndexOf(l, l.Max());
            if (best == ToyWorld.Eos) break;
            expected.Add(best);
            prefix.Add(best);
        }
        Assert.Equal(expected, r.Tokens);
        Assert.Equal(expected.Count < 8 ? FinishReason.EndOfSequence : FinishReason.MaxTokens, r.Finish);
    }

    [Fact]
    public void Cancellation_returns_what_was_generated()
    {
        using var lm = ToyWorld.CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        using var cts = new CancellationTokenSource();
        var strategy = new SamplingStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 50, IgnoreEos = true })
        {
            OnText = (_, _) => cts.Cancel(),
        };
        var r = strategy.Decode([[ToyWorld.Bos]], cts.Token)[0];
        Assert.Equal(FinishReason.Cancelled, r.Finish);
        // The first token with visible text (EOS, kept by IgnoreEos, has none) triggered the cancel; the next step stopped.
        Assert.Equal(Array.FindIndex(r.Tokens, t => t != ToyWorld.Eos) + 1, r.Tokens.Length);
    }

    [Fact]
    public void Invalid_options_are_rejected_before_any_model_runs()
    {
        using var lm = ToyWorld.CreateLm();
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        Assert.Throws<ArgumentException>(() => new SamplingStrategy(lm, kernels, new GenerationOptions { MaxNewTokens = 0 }));
        Assert.Throws<ArgumentException>(() => new SamplingStrategy(lm, kernels, new GenerationOptions { Sampling = new SamplingParameters { TopP = 0 } }));
    }
}
