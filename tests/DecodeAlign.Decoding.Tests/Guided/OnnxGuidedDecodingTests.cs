using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// The guided strategies on real ONNX sessions (tiny random Llama, fp16 KV cache): the scorer and value sessions
/// stay in lockstep with the LM through appends, forks and dropped rows, so the rewards they report equal a fresh
/// scoring of each response, and each step costs the calls the strategies promise.
/// </summary>
public sealed class OnnxGuidedDecodingTests
{
    private const float Fp16Tolerance = 2e-2f;
    private const int Probe = 450;
    private static readonly Lazy<LanguageModel> Lm = new(() => LanguageModel.Load(SharedModels.PathOf("tiny-random-llama-fp16"), new OnnxModelOptions { IntraOpThreads = 1 }));

    private static int[][] Prompts => [Lm.Value.EncodePrompt("Once upon a time"), Lm.Value.EncodePrompt("The cat"), Lm.Value.EncodePrompt("A very long prompt about many things")];

    /// <summary>The probe scorer's score of <paramref name="tokens"/> computed from scratch.</summary>
    private static float FreshScore(int[] tokens)
    {
        using var s = Lm.Value.Lm.CreateSession();
        s.AddRow(tokens);
        return s.Forward().Row(0)[Probe];
    }

    private static GenerationOptions Generation(int maxNewTokens, IReadOnlyList<string>? stops = null) =>
        new() { MaxNewTokens = maxNewTokens, Sampling = new SamplingParameters { Seed = 4 }, StopStrings = stops ?? [] };

    [SharedFact]
    public void Args_rewards_match_fresh_scoring_and_cost_one_scorer_call_per_token()
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        // Without speculation, so the LM's calls are exactly one per step (speculation is checked below).
        var strategy = new ArgsStrategy(Lm.Value, kernels, Generation(10, stops: ["e"]), new Potentials { PrefixScorer = new ProbeLogitScorer(Lm.Value.Lm, Probe) },
            new ArgsOptions { TopK = 10, Weight = 2f, Temperature = 0.8f, Speculate = false });
        var prompts = Prompts;
        var results = strategy.Decode(prompts);
        foreach (var (r, p) in results.Zip(prompts))
        {
            Assert.NotEmpty(r.Tokens);
            Assert.InRange(r.Reward!.Value, FreshScore([.. p, .. r.Tokens]) - Fp16Tolerance, FreshScore([.. p, .. r.Tokens]) + Fp16Tolerance);
        }
        var compute = results[0].Trace.Compute;
        // One LM call and one scorer candidate call per token; the chosen candidate's key/value slot is reused, so the
        // scorer's only other call is its prompt prefill.
        Assert.Equal(compute.LmCalls + 1, compute.RewardCalls);
        Assert.Equal(prompts.Sum(p => p.Length) + results.Sum(r => r.Tokens.Length - (r.Finish == FinishReason.EndOfSequence ? 0 : 1)), compute.LmTokens);
    }

    [SharedFact]
    public void Speculative_args_gives_the_same_responses_and_rewinds_the_rows_it_guessed_wrong()
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var potentials = new Potentials { PrefixScorer = new ProbeLogitScorer(Lm.Value.Lm, Probe) };
        var prompts = Prompts;
        foreach (var temperature in new[] { 0f, 0.8f })
        {
            DecodeResult[] Run(bool speculate) => [.. new ArgsStrategy(Lm.Value, kernels, Generation(12), potentials,
                new ArgsOptions { TopK = 10, Weight = 2f, Temperature = temperature, Speculate = speculate }).Decode(prompts)];
            var plain = Run(false);
            var speculative = Run(true);
            for (var i = 0; i < prompts.Length; i++)
            {
                Assert.Equal(plain[i].Tokens, speculative[i].Tokens);
                Assert.Equal(plain[i].Reward!.Value, speculative[i].Reward!.Value, Fp16Tolerance);
                Assert.Null(plain[i].Trace.SpeculationHitRate);
            }
            // A weight-2 probe reward overturns the LM's top token on some steps: those rows were rewound and re-run.
            var hitRate = speculative[0].Trace.SpeculationHitRate!.Value;
            Assert.InRange(hitRate, 0.0, 0.999);
            Assert.True(speculative[0].Trace.Compute.LmCalls > plain[0].Trace.Compute.LmCalls, "misses cost extra LM calls");
        }
    }

    [SharedFact]
    public void Vas_runs_one_value_step_per_token_and_follows_the_batch_lockstep()
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var potentials = new Potentials { Values = [new WeightedValueModel(new LogitValueModel(Lm.Value.Lm), 0.5f), new WeightedValueModel(new LogitValueModel(Lm.Value.Lm), 0.25f)] };
        var results = new VasStrategy(Lm.Value, kernels, Generation(10, stops: ["e"]), potentials, new VasOptions()).Decode(Prompts);
        var compute = results[0].Trace.Compute;
        Assert.Equal(2 * compute.LmCalls, compute.RewardCalls);
        Assert.Equal(2 * compute.LmTokens, compute.RewardTokens);
        Assert.Equal(results.Sum(r => r.Tokens.Length), compute.GeneratedTokens);
    }

    [SharedFact]
    public void Blockwise_trace_rewards_match_fresh_scoring_of_every_continuation()
    {
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var strategy = new ControlledDecodingStrategy(Lm.Value, kernels, Generation(9), new Potentials { PrefixScorer = new ProbeLogitScorer(Lm.Value.Lm, Probe) },
            new ControlledDecodingOptions { Candidates = 3, BlockSize = 4 });
        var prompts = Prompts;
        var results = strategy.Decode(prompts);
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(9, results[i].Tokens.Length);
            Assert.Equal(3 * 3, results[i].Trace.Candidates.Count);
            foreach (var c in results[i].Trace.Candidates)
            {
                var fresh = FreshScore([.. prompts[i], .. c.Tokens]);
                Assert.InRange(c.Reward!.Value, fresh - Fp16Tolerance, fresh + Fp16Tolerance);
            }
        }
        // The forks share the prompt's and the kept blocks' cache: the scorer runs each prompt once and each continuation's new tokens once.
        var newTokens = results.Sum(r => r.Trace.Candidates.Chunk(3).Select((block, b) => block.Sum(c => c.Tokens.Length) - 3 * 4 * b).Sum());
        Assert.Equal(prompts.Sum(p => p.Length) + newTokens, results[0].Trace.Compute.RewardTokens);
    }
}
