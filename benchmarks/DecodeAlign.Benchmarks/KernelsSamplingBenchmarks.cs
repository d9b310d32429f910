using BenchmarkDotNet.Attributes;
using DecodeAlign.Kernels;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// The fused per-token operations of the SIMD backend on [rows × vocab] float32 logits: "temperature + top-p + sample"
/// (one <see cref="ITokenKernels.Sample"/> call) and "top-k 20 + fusion + sample" (TopK, FuseCandidates with two
/// score terms, SelectCandidates). Logits are Gaussian (σ = 3); the "Read GB/s" column divides rows × vocab × 4 bytes
/// by the mean time. Compare with <see cref="KernelsMemoryBandwidthBenchmarks"/> from the same run.
/// </summary>
[Config(typeof(KernelsBenchmarkConfig))]
public class KernelsSamplingBenchmarks
{
    private const int K = 20;
    private ITokenKernels _kernels = null!;
    private float[] _logits = [];
    private SampleKey[] _keys = [];
    private int[] _tokens = [];
    private int[] _ids = [];
    private float[] _values = [];
    private float[] _scores = [];
    private float[] _fused = [];
    private readonly float[] _weights = [0.5f, 1.5f];
    private readonly SamplingParameters _topP = new() { Temperature = 0.8f, TopP = 0.9f, Seed = 42 };

    /// <summary>Rows in the batch.</summary>
    [Params(1, 8, 64)]
    public int Rows { get; set; }

    /// <summary>Vocabulary size (512: toy model, 32k: Llama-2, 152k: Qwen2).</summary>
    [Params(512, 32_000, 152_064)]
    public int Vocab { get; set; }

    /// <summary>Builds the SIMD backend and the inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var rng = new Random(7);
        _logits = new float[Rows * Vocab];
        for (int i = 0; i < _logits.Length; i++)
            _logits[i] = 3f * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        _keys = Enumerable.Range(0, Rows).Select(r => new SampleKey(r, 0)).ToArray();
        _tokens = new int[Rows];
        _ids = new int[Rows * K];
        _values = new float[Rows * K];
        _fused = new float[Rows * K];
        _scores = Enumerable.Range(0, 2 * Rows * K).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    /// <summary>Releases the backend.</summary>
    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    /// <summary>Temperature 0.8 + top-p 0.9 + Philox draw, fused in one call.</summary>
    [Benchmark]
    public int TemperatureTopPSample()
    {
        _kernels.Sample(_logits, Vocab, _topP, _keys, _tokens);
        return _tokens[0];
    }

    /// <summary>Top-20 candidates, VAS-centred fusion of two score terms, then a draw among the candidates.</summary>
    [Benchmark]
    public int TopK20FusionSample()
    {
        _kernels.TopK(_logits, Vocab, K, _ids, _values);
        _kernels.FuseCandidates(_values, K, _scores, _weights, FusionMode.Centered, _fused);
        _kernels.SelectCandidates(_fused, K, 1f, 42, _keys, _tokens);
        return _ids[_tokens[0]];
    }
}
