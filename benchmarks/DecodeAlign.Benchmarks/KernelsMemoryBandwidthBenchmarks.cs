using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// This machine's memory bandwidth, measured in the same run as the kernels: a 256 MiB array copy (reads and writes
/// 256 MiB each) and a 256 MiB vectorised sum (reads only). The kernel figures are stated as a share of these.
/// </summary>
[Config(typeof(KernelsBenchmarkConfig))]
public class KernelsMemoryBandwidthBenchmarks
{
    /// <summary>Bytes read per operation (the source array).</summary>
    public const long Bytes = 64L * 1024 * 1024 * sizeof(float);

    private float[] _source = [];
    private float[] _destination = [];

    /// <summary>Allocates and touches both arrays so page faults stay out of the measurement.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _source = new float[Bytes / sizeof(float)];
        _destination = new float[_source.Length];
        new Random(1).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_source.AsSpan()));
        _destination.AsSpan().Fill(1f);
    }

    /// <summary>Large array copy (memcpy path).</summary>
    [Benchmark(Baseline = true)]
    public void ArrayCopy() => _source.AsSpan().CopyTo(_destination);

    /// <summary>Read-only streaming: a SIMD sum over the source.</summary>
    [Benchmark]
    public float ReadSum() => TensorPrimitives.Sum(_source);
}
