using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Tests;

/// <summary>
/// Best-of-N and SMC on a real ONNX export (tiny random Llama, KV cache forked with Select after one prefill) and a
/// real reward model: candidate j must be exactly the response plain sampling gives prompt copy j, because both use
/// row id j and forking the cache must not change the logits.
/// </summary>
public sealed class OnnxBatchingTests
{
    private const int N = 6, MaxNewTokens = 10;

    private static readonly GenerationOptions Generation = new() { MaxNewTokens = MaxNewTokens, Sampling = new SamplingParameters { Seed = 31, TopK = 50 } };

    private static (LanguageModel Lm, IRewardModel Rm, ITokenKernels Kernels) Load() => (
        LanguageModel.Load(SharedModels.PathOf("tiny-random-llama-fp16"), new OnnxModelOptions { IntraOpThreads = 1 }),
        OnnxSequenceClassifierRewardModel.Load(Path.Combine(SharedModels.RepoRoot, "tests", "fixtures", "tiny-classifier")),
        KernelBackends.Create(KernelBackendKind.Cpu));

    [SharedFact]
    public void Best_of_n_forks_one_prefill_and_its_candidates_equal_independent_samples()
    {
        var (lm, rm, kernels) = Load();
        using var _ = lm;
        using var __ = rm;
        using var ___ = kernels;
        var prompt = lm.EncodePrompt("Once upon a time");
        var samples = new SamplingStrategy(lm, kernels, Generation).Decode(Enumerable.Repeat(prompt, N).ToArray());
        var r = new BestOfNStrategy(lm, kernels, Generation, new Potentials { Reward = rm }, new BestOfNOptions { N = N }).Decode([prompt])[0];
        Assert.Equal(samples.Select(s => s.Tokens), r.Trace.Candidates.Select(c => c.Tokens));
        var rewards = rm.Score(samples.Select(s => new RewardQuery(lm.Tokenizer.Decode(prompt), s.Text)).ToArray());
        Assert.Equal(rewards.Select(x => (double?)x), r.Trace.Candidates.Select(c => c.Reward));
        Assert.Equal(rewards.Max(), r.Reward!.Value, 6);
        var c = r.Trace.Compute;
        // The prompt runs once (not N times); every later call runs one token per unfinished candidate.
        Assert.Equal(prompt.Length + samples.Sum(s => Math.Min(s.Tokens.Length, MaxNewTokens - 1)), c.LmTokens);
        Assert.True(c.LmCalls <= 1 + MaxNewTokens, $"{c.LmCalls} LM calls");
        Assert.Equal((1, N), (c.RewardCalls, c.RewardTokens));
    }

    [SharedFact]
    public void Smc_without_resampling_advances_particles_like_independent_samples()
    {
        var (lm, rm, kernels) = Load();
        using var _ = lm;
        using var __ = rm;
        using var ___ = kernels;
        var prompt = lm.EncodePrompt("Once upon a time");
        var samples = new SamplingStrategy(lm, kernels, Generation).Decode(Enumerable.Repeat(prompt, N).ToArray());
        var r = new SmcStrategy(lm, kernels, Generation, new Potentials { Reward = rm }, new SmcOptions { Particles = N, EssThreshold = 0 }).Decode([prompt])[0];
        Assert.Equal(samples.Select(s => s.Tokens), r.Trace.Candidates.Select(c => c.Tokens));
        Assert.Equal(1.0, r.Trace.Candidates.Sum(c => c.Weight!.Value), 5);
        Assert.True(double.IsFinite(r.Trace.LogNormalizer!.Value));

        var resampled = new SmcStrategy(lm, kernels, Generation, new Potentials { Reward = rm }, new SmcOptions { Particles = N, EssThreshold = 1 }).Decode([prompt, prompt]);
        Assert.All(resampled, x => Assert.Equal(N, x.Trace.Candidates.Count));
        Assert.True(resampled[0].Trace.Compute.LmCalls <= 1 + MaxNewTokens);
    }
}
