using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// What alignment costs on the built-in arith models, side by side in one run, one problem at a time:
/// "natural" — one sample vs best-of-16 (responses stop at EOS as in use; best-of-16 waits for its longest candidate);
/// "per-token" — plain sampling vs ARGS (k = 10; as shipped, without speculation, and with the k candidates run as k
/// scorer rows instead of the reward model's candidate head), VAS (k = 20), DeAL (k = 5, l = 8, b = 2) and Transfer Q*
/// (k = 10, L = 16, m = 1, the aligned policy as baseline), all forced to the same 48 tokens (EOS
/// ignored), so the ratio of means is the ratio of per-token costs. QAlign's regenerated tokens per step against the full
/// response length are printed at the end (a count, not a time).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StrategyCostBenchmarks
{
    private const int FixedTokens = 48;
    private LanguageModel _lm = null!;
    private IPrefixScorer _reward = null!;
    private IValueModel _value = null!;
    private ICausalLm _aligned = null!;
    private ITokenKernels _kernels = null!;
    private int[][] _prompts = null!;
    private Potentials _potentials = null!;
    private int _next;
    private readonly List<(double Regenerated, double Length)> _qalign = [];

    [GlobalSetup]
    public void Setup()
    {
        _lm = LanguageModel.Load(BenchmarkModels.Arith("lm"));
        _reward = ModelLoader.LoadPrefixScorer(BenchmarkModels.Arith("verifier"));
        _value = ModelLoader.LoadValueModel(BenchmarkModels.Arith("value"));
        _aligned = ModelLoader.LoadCausalLm(BenchmarkModels.Arith("aligned"));
        _kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var task = TaskRegistry.Get("arith");
        _prompts = task.Problems(Split.Test, 64).Select(p => _lm.EncodePrompt(task.Prompt(p))).ToArray();
        _potentials = new Potentials { Reward = (IRewardModel)_reward, PrefixScorer = _reward, Values = [new WeightedValueModel(_value, 1f)], AnswerExtractor = task.ExtractAnswer, BaselinePolicy = _aligned };
    }

    // Each invocation decodes the next problem, so every strategy sees the same mix of prompts.
    private int[][] NextPrompt() => [_prompts[_next++ % _prompts.Length]];

    /// <summary>The problem (and seed) the next invocation decodes; the interleaved harness sets it per round.</summary>
    internal int NextProblem { set => _next = value; }

    private GenerationOptions Natural => new() { MaxNewTokens = 96, Sampling = new SamplingParameters { Seed = (ulong)_next } };

    private GenerationOptions Fixed => new() { MaxNewTokens = FixedTokens, IgnoreEos = true, Sampling = new SamplingParameters { Seed = (ulong)_next } };

    [Benchmark(Baseline = true, Description = "one sample"), BenchmarkCategory("natural")]
    public DecodeResult OneSample() => new SamplingStrategy(_lm, _kernels, Natural).Decode(NextPrompt())[0];

    [Benchmark(Description = "best-of-16"), BenchmarkCategory("natural")]
    public DecodeResult BestOf16() => new BestOfNStrategy(_lm, _kernels, Natural, _potentials, new BestOfNOptions { N = 16 }).Decode(NextPrompt())[0];

    [Benchmark(Description = "qalign 16 steps"), BenchmarkCategory("natural")]
    public DecodeResult QAlign16()
    {
        var r = new QAlignStrategy(_lm, _kernels, Natural, _potentials, new QAlignOptions { Steps = 16 }).Decode(NextPrompt())[0];
        var regenerated = r.Trace.RegeneratedTokens!;
        var lengths = r.Trace.Candidates.Select(c => (double)c.Tokens.Length).ToArray();
        _qalign.Add((regenerated.Average(), lengths.Average()));
        return r;
    }

    [Benchmark(Baseline = true, Description = "sample 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult Sample48() => new SamplingStrategy(_lm, _kernels, Fixed).Decode(NextPrompt())[0];

    [Benchmark(Description = "args k=10, 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult Args48() => new ArgsStrategy(_lm, _kernels, Fixed, _potentials, new ArgsOptions { TopK = 10 }).Decode(NextPrompt())[0];

    [Benchmark(Description = "args k=10 serial, 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult Args48Serial() => new ArgsStrategy(_lm, _kernels, Fixed, _potentials, new ArgsOptions { TopK = 10, Speculate = false }).Decode(NextPrompt())[0];

    [Benchmark(Description = "args k=10 as k rows, 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult Args48Rows() => new ArgsStrategy(_lm, _kernels, Fixed, _potentials with { PrefixScorer = new RowsOnly(_reward) }, new ArgsOptions { TopK = 10 }).Decode(NextPrompt())[0];

    /// <summary>The reward model without its candidate head: ARGS then scores each row's k candidates as k rows.</summary>
    private sealed class RowsOnly(IPrefixScorer inner) : IPrefixScorer
    {
        public DecoderInfo Info => inner.Info;

        public IDecoderSession CreateSession() => inner.CreateSession();

        public void Dispose() { }
    }

    [Benchmark(Description = "vas k=20, 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult Vas48() => new VasStrategy(_lm, _kernels, Fixed, _potentials, new VasOptions { TopK = 20 }).Decode(NextPrompt())[0];

    [Benchmark(Description = "deal k=5 l=8 b=2, 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult Deal48() => new DealStrategy(_lm, _kernels, Fixed, _potentials, new DealOptions()).Decode(NextPrompt())[0];

    [Benchmark(Description = "tqstar k=10 L=16 m=1, 48 tokens"), BenchmarkCategory("per-token")]
    public DecodeResult TransferQ48() => new TransferQStrategy(_lm, _kernels, Fixed, _potentials, new TransferQOptions()).Decode(NextPrompt())[0];

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_qalign.Count > 0)
        {
            var line = $"qalign: {_qalign.Average(q => q.Regenerated):F1} tokens regenerated per step vs {_qalign.Average(q => q.Length):F1} tokens per chain state (over {_qalign.Count} runs)";
            Console.WriteLine("// " + line);
            File.AppendAllText(Path.Combine(Path.GetTempPath(), "decodealign-strategy-bench.txt"), line + Environment.NewLine);
        }
        _kernels.Dispose();
        _value.Dispose();
        _aligned.Dispose();
        _reward.Dispose();
        _lm.Dispose();
    }
}
