using System.Diagnostics;
using System.Globalization;
using DecodeAlign.Kernels;
using DecodeAlign.Testing;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// The device check for ILGPU's CUDA backend (tools/device/gpu-check.sh runs it where a session is lent a GPU): parity with
/// the SIMD CPU backend (itself parity-tested against the scalar reference) on random and adversarial logits at several
/// vocabulary sizes, then throughput of softmax, top-k and sampling over a [rows × vocab] batch, host copies included,
/// against the SIMD backend. <c>gpu-kernels [--rows N] [--iters N] [--vocabs 203,512,...] [--backend cuda|ilgpu-cpu]</c>; exit 0 all equal, 1 a mismatch, 3 no CUDA device.
/// </summary>
internal static class GpuKernelCheck
{
    public static int Run(string[] args)
    {
        string? Arg(string name) => Array.IndexOf(args, name) is var i && i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var rows = int.Parse(Arg("--rows") ?? "64", CultureInfo.InvariantCulture);
        var iters = int.Parse(Arg("--iters") ?? "20", CultureInfo.InvariantCulture);
        // --backend ilgpu-cpu runs the same check on ILGPU's CPU simulator, which is how the check itself was tried without a GPU.
        var backend = KernelBackends.Parse(Arg("--backend") ?? "cuda");
        var vocabs = (Arg("--vocabs") ?? "203,512,32000,128256").Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        if (backend == KernelBackendKind.Cuda && !KernelBackends.CudaAvailable())
        {
            Console.WriteLine("gpu-kernels: no CUDA device visible to ILGPU; nothing to check");
            return 3;
        }
        using var cuda = KernelBackends.Create(backend);
        using var simd = KernelBackends.Create(KernelBackendKind.Cpu);
        Console.WriteLine($"gpu-kernels: {cuda.DeviceName} against {simd.DeviceName}");

        var failures = 0;
        foreach (var vocab in vocabs)
            foreach (var (name, x) in new[] { ("gaussian", RandomLogits.Gaussian(8, vocab, 1)), ("adversarial", RandomLogits.Adversarial(8, vocab, 2)) })
                failures += Parity(cuda, simd, x, 8, vocab, $"vocab {vocab}, {name}");
        Console.WriteLine(failures == 0 ? "parity: all equal" : $"parity: {failures} mismatches");

        Console.WriteLine($"| kernel ({rows} rows × vocab) | vocab | {KernelBackends.ToName(backend)} ms | SIMD ms | {KernelBackends.ToName(backend)} GB/s (logits in + out) | SIMD GB/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var vocab in vocabs.Where(v => v >= 32_000))
        {
            var x = RandomLogits.Gaussian(rows, vocab, 3);
            var probs = new float[x.Length];
            var ids = new int[rows * 50];
            var values = new float[rows * 50];
            var tokens = new int[rows];
            var keys = Enumerable.Range(0, rows).Select(r => new SampleKey(r, 0)).ToArray();
            var p = new SamplingParameters { Temperature = 1f, TopP = 0.9f, Seed = 7 };
            long bytes = (long)x.Length * sizeof(float);
            Throughput("softmax", vocab, iters, 2 * bytes, cuda, simd, k => k.Softmax(x, vocab, probs));
            Throughput("top-k 50", vocab, iters, bytes, cuda, simd, k => k.TopK(x, vocab, 50, ids, values));
            Throughput("sample (top-p 0.9)", vocab, iters, bytes, cuda, simd, k => k.Sample(x, vocab, p, keys, tokens));
        }
        return failures == 0 ? 0 : 1;
    }

    private static int Parity(ITokenKernels cuda, ITokenKernels simd, float[] x, int rows, int vocab, string what)
    {
        var failures = 0;
        void Check(string kernel, bool ok, string detail = "")
        {
            if (ok) return;
            failures++;
            Console.WriteLine($"MISMATCH {kernel} ({what}) {detail}");
        }
        float[] a = new float[x.Length], b = new float[x.Length];
        cuda.Softmax(x, vocab, a); simd.Softmax(x, vocab, b);
        Check("softmax", WorstOverTolerance(a, b) is var e1 && e1 <= 1, $"worst error {e1:G3}× the tolerance");
        cuda.LogSoftmax(x, vocab, a); simd.LogSoftmax(x, vocab, b);
        Check("log-softmax", WorstOverTolerance(a, b) is var e2 && e2 <= 1, $"worst error {e2:G3}× the tolerance");
        float[] ha = new float[rows], hb = new float[rows];
        cuda.Entropy(x, vocab, ha); simd.Entropy(x, vocab, hb);
        Check("entropy", WorstOverTolerance(ha, hb, 1e-5) is var e3 && e3 <= 1, $"worst error {e3:G3}× the tolerance");
        var k = Math.Min(50, vocab);
        int[] ia = new int[rows * k], ib = new int[rows * k];
        float[] va = new float[rows * k], vb = new float[rows * k];
        cuda.TopK(x, vocab, k, ia, va); simd.TopK(x, vocab, k, ib, vb);
        Check("top-k ids", ia.AsSpan().SequenceEqual(ib));
        Check("top-k values", va.AsSpan().SequenceEqual(vb));
        foreach (var topP in new[] { 0.5f, 0.9f })
        {
            x.CopyTo(a, 0); x.CopyTo(b, 0);
            cuda.MaskTopP(a, vocab, topP); simd.MaskTopP(b, vocab, topP);
            Check($"top-p {topP} mask", a.AsSpan().SequenceEqual(b));
        }
        x.CopyTo(a, 0); x.CopyTo(b, 0);
        cuda.MaskMinP(a, vocab, 0.05f); simd.MaskMinP(b, vocab, 0.05f);
        Check("min-p 0.05 mask", a.AsSpan().SequenceEqual(b));
        var keys = Enumerable.Range(0, rows).Select(r => new SampleKey(r, 3)).ToArray();
        foreach (var p in new[] { new SamplingParameters { Temperature = 1f, Seed = 11 }, new SamplingParameters { Temperature = 0.7f, TopK = 40, TopP = 0.9f, MinP = 0.02f, Seed = 12 } })
        {
            int[] ta = new int[rows], tb = new int[rows];
            cuda.Sample(x, vocab, p, keys, ta); simd.Sample(x, vocab, p, keys, tb);
            Check("sample tokens", ta.AsSpan().SequenceEqual(tb), $"{string.Join(",", ta)} vs {string.Join(",", tb)}");
        }
        return failures;
    }

    private static void Throughput(string name, int vocab, int iters, long bytes, ITokenKernels cuda, ITokenKernels simd, Action<ITokenKernels> run)
    {
        double Ms(ITokenKernels k)
        {
            run(k); // warm-up: JIT, ILGPU kernel compilation, device buffers
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < iters; i++) run(k);
            return sw.Elapsed.TotalMilliseconds / iters;
        }
        var c = Ms(cuda);
        var s = Ms(simd);
        Console.WriteLine($"| {name} | {vocab} | {c:F3} | {s:F3} | {bytes / (c * 1e6):F1} | {bytes / (s * 1e6):F1} |");
    }

    // The parity tests' tolerance (TestInputs.Close): |a − b| ≤ 1e-5 · max(|a|, |b|) + absolute; returns the worst |a − b| / tolerance.
    private static double WorstOverTolerance(float[] a, float[] b, double absolute = 1e-6)
    {
        double worst = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i] || (float.IsNaN(a[i]) && float.IsNaN(b[i]))) continue;
            var ratio = Math.Abs((double)a[i] - b[i]) / (1e-5 * Math.Max(Math.Abs(a[i]), Math.Abs(b[i])) + absolute);
            worst = Math.Max(worst, double.IsNaN(ratio) ? double.PositiveInfinity : ratio);
        }
        return worst;
    }
}
