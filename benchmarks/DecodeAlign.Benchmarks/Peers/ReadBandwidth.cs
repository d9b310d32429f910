using System.Diagnostics;
using System.Numerics.Tensors;

namespace DecodeAlign.Benchmarks.Peers;

/// <summary>
/// This machine's memory read bandwidth: a vectorised sum over a 512 MiB array (far beyond the caches), split across
/// every logical processor as the engines' matrix products are; best of several passes.
/// </summary>
internal static class ReadBandwidth
{
    private static float[]? _data;

    public static double BytesPerSecond(int passes = 6)
    {
        if (_data is null)
        {
            _data = new float[128L * 1024 * 1024];
            _data.AsSpan().Fill(1f);
        }
        var data = _data;
        var threads = Environment.ProcessorCount;
        var chunk = data.Length / threads;
        var best = 0.0;
        for (var pass = 0; pass < passes; pass++)
        {
            var sw = Stopwatch.StartNew();
            var sums = new float[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => sums[t] = TensorPrimitives.Sum(data.AsSpan(t * chunk, chunk)));
            sw.Stop();
            best = Math.Max(best, (long)chunk * threads * sizeof(float) / sw.Elapsed.TotalSeconds);
            GC.KeepAlive(sums);
        }
        return best;
    }
}
