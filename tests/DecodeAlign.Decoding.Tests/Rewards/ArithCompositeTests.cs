using DecodeAlign.Decoding.Rewards;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Decoding.Tests.Rewards;

/// <summary>
/// Composites on the built-in arith models (the likelihood verifier and the calculator): the weighted sum holds for
/// whole responses, and ARGS with a composite chooses the same tokens from its candidate session as from k rows.
/// </summary>
public sealed class ArithCompositeTests
{
    private static readonly string Dir = Path.Combine(SharedModels.RepoRoot, "models", "arith");
    private static readonly OnnxModelOptions Options = new() { IntraOpThreads = 1 };

    /// <summary>The same prefix scorer without its candidate session, so ARGS falls back to k rows per prompt.</summary>
    private sealed class RowsOnly(IPrefixScorer inner) : IPrefixScorer
    {
        public DecoderInfo Info => inner.Info;

        public IDecoderSession CreateSession() => inner.CreateSession();

        public void Dispose() { }
    }

    [Fact]
    public void Likelihood_plus_calc_is_the_weighted_sum_on_arith_responses()
    {
        using var likelihood = OnnxDecoderRewardModel.Load(Path.Combine(Dir, "likelihood"), new RewardModelOptions { Onnx = Options });
        using var lm = LanguageModel.Load(Path.Combine(Dir, "lm"), Options);
        var calc = new CalcReward();
        using var composite = new CompositeReward([new(likelihood, 1f), new(calc, 0.5f)], lm);
        var task = TaskRegistry.Get("arith");
        var problems = task.Problems(Split.Test, 3).ToArray();
        var queries = problems.SelectMany(p => new RewardQuery[]
        {
            new(task.Prompt(p), task.Response(p)),
            new(task.Prompt(p), task.Response(p).Replace(" = ", " = 1")), // wrong results
        }).ToArray();
        var learned = likelihood.Score(queries);
        var total = composite.Score(queries);
        for (var i = 0; i < queries.Length; i++)
            Assert.Equal(learned[i] + 0.5f * calc.Score(queries[i].Prompt, queries[i].Response), total[i], 1e-4);
        Assert.True(total[1] < total[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Args_with_a_composite_gives_the_same_responses_from_its_candidate_session_and_from_k_rows(bool programmaticOnly)
    {
        using var lm = LanguageModel.Load(Path.Combine(Dir, "lm"), Options);
        using var likelihood = OnnxDecoderRewardModel.Load(Path.Combine(Dir, "likelihood"), new RewardModelOptions { Onnx = Options });
        WeightedReward[] terms = programmaticOnly
            ? [new(new CalcReward(), 2f), new(KeywordReward.Parse("answer"), 0.5f)]
            : [new(likelihood, 1f), new(new CalcReward(), 2f), new(KeywordReward.Parse("/is [0-9]/"), 0.5f)];
        using var composite = new CompositeReward(terms, lm);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var task = TaskRegistry.Get("arith");
        var prompts = task.Problems(Split.Test, 4).Select(p => lm.EncodePrompt(task.Prompt(p))).ToArray();
        var generation = new GenerationOptions { MaxNewTokens = 40, Sampling = new SamplingParameters { Seed = 11 } };
        var args = new ArgsOptions { TopK = 10, Weight = 3f };
        var wide = new ArgsStrategy(lm, kernels, generation, new Potentials { PrefixScorer = composite }, args).Decode(prompts);
        var rows = new ArgsStrategy(lm, kernels, generation, new Potentials { PrefixScorer = new RowsOnly(composite) }, args).Decode(prompts);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(rows[i].Tokens, wide[i].Tokens);
            Assert.Equal(rows[i].Reward!.Value, wide[i].Reward!.Value, 1e-3);
        }
        if (!programmaticOnly)
        {
            // The learned part's work is in the trace: one scorer row per prompt instead of k.
            Assert.True(wide[0].Trace.Compute.RewardCalls > 0);
            Assert.True(wide[0].Trace.Compute.RewardTokens * 5 < rows[0].Trace.Compute.RewardTokens);
        }
    }
}
