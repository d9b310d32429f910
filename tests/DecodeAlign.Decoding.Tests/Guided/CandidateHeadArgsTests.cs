using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// ARGS on the built-in arith models: the reward model's vocabulary-wide candidate head (one scorer row per prompt)
/// must choose exactly what scoring each of the k candidates as its own row chooses, with the same rewards.
/// </summary>
public sealed class CandidateHeadArgsTests
{
    /// <summary>The same prefix scorer without its candidate head, so ARGS falls back to k rows per prompt.</summary>
    private sealed class RowsOnly(IPrefixScorer inner) : IPrefixScorer
    {
        public DecoderInfo Info => inner.Info;

        public IDecoderSession CreateSession() => inner.CreateSession();

        public void Dispose() { }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.7f)]
    public void Candidate_head_and_k_candidate_rows_give_the_same_responses(float temperature)
    {
        var dir = Path.Combine(SharedModels.RepoRoot, "models", "arith");
        var options = new OnnxModelOptions { IntraOpThreads = 1 };
        using var lm = LanguageModel.Load(Path.Combine(dir, "lm"), options);
        using var reward = OnnxDecoderRewardModel.Load(Path.Combine(dir, "likelihood"), new RewardModelOptions { Onnx = options });
        Assert.True(reward.HasCandidateHead);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var task = TaskRegistry.Get("arith");
        var prompts = task.Problems(Split.Test, 6).Select(p => lm.EncodePrompt(task.Prompt(p))).ToArray();
        var generation = new GenerationOptions { MaxNewTokens = 40, Sampling = new SamplingParameters { Seed = 11 } };
        // w = 3 so the reward, not only the logits, decides between candidates.
        var args = new ArgsOptions { TopK = 10, Weight = 3f, Temperature = temperature };
        var wide = new ArgsStrategy(lm, kernels, generation, new Potentials { PrefixScorer = reward }, args).Decode(prompts);
        var rows = new ArgsStrategy(lm, kernels, generation, new Potentials { PrefixScorer = new RowsOnly(reward) }, args).Decode(prompts);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(rows[i].Tokens, wide[i].Tokens);
            Assert.Equal(rows[i].Reward!.Value, wide[i].Reward!.Value, 1e-3);
        }
        // One scorer row per prompt instead of k: the scorer computes about k times fewer tokens.
        Assert.True(wide[0].Trace.Compute.RewardTokens * 5 < rows[0].Trace.Compute.RewardTokens,
            $"{wide[0].Trace.Compute.RewardTokens} vs {rows[0].Trace.Compute.RewardTokens} scorer tokens");
    }
}
