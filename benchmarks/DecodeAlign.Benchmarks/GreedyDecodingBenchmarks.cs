using BenchmarkDotNet.Attributes;
using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// Greedy decoding of the imported stories260K from BOS, 256 new tokens (EOS ignored), end to end through the
/// strategy. Reports tokens/s and the share of each decode spent outside ONNX Runtime (our per-token overhead),
/// measured from the session's own timers across all iterations.
/// </summary>
[MemoryDiagnoser]
public class GreedyDecodingBenchmarks
{
    private const int NewTokens = 256;
    private LanguageModel _model = null!;
    private ITokenKernels _kernels = null!;
    private SamplingStrategy _strategy = null!;
    private int[] _prompt = null!;
    private TimeSpan _wall, _runtime;
    private long _tokens;

    /// <summary>ONNX Runtime intra-op threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = LanguageModel.Load(BenchmarkModels.Stories260K(), new OnnxModelOptions { IntraOpThreads = Threads });
        _kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        _strategy = new SamplingStrategy(_model, _kernels, new GenerationOptions { MaxNewTokens = NewTokens, IgnoreEos = true, Sampling = new SamplingParameters { Temperature = 0 } });
        _prompt = _model.EncodePrompt("");
    }

    [Benchmark(Description = "greedy 256 tokens")]
    public int Greedy()
    {
        var r = _strategy.Decode([_prompt])[0];
        _wall += r.Trace.Compute.WallTime;
        _runtime += r.Trace.Compute.ModelTime;
        _tokens += r.Tokens.Length;
        return r.Tokens.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var line = $"stories260K greedy, threads={Threads}: {_tokens / _wall.TotalSeconds:F0} tokens/s over {_tokens} tokens; " +
                   $"time outside ONNX Runtime {100 * (1 - _runtime / _wall):F1}% ({(_wall - _runtime).TotalMilliseconds * 1000 / _tokens:F1} µs/token of {_wall.TotalMilliseconds * 1000 / _tokens:F1} µs/token)";
        Console.WriteLine("// " + line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "decodealign-greedy-bench.txt"), line + Environment.NewLine);
        _kernels.Dispose();
        _model.Dispose();
    }
}
