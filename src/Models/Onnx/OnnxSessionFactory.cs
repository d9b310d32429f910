using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace DecodeAlign.Models.Onnx;

/// <summary>Creates ONNX Runtime sessions from <see cref="OnnxModelOptions"/>, turning load failures into specific errors.</summary>
internal static class OnnxSessionFactory
{
    public static InferenceSession Create(string modelPath, OnnxModelOptions options)
    {
        options.Validate();
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : AutomaticThreads(WeightBytes(modelPath), options.ExpectedRows),
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            // Decoding changes the cache's shape every step, so a memory pattern (planned per input shape) is rebuilt on
            // every call and never reused, and the arena's bookkeeping costs more than the allocator it fronts: with
            // both off a fresh process's stories260K step took 20-25% less time and llama100m's about 5% less, warm
            // processes gained 0-6%, and batches of 16-64 were unchanged (benchmarks/README.md). Neither changes a
            // computed value.
            EnableMemoryPattern = false,
            EnableCpuMemArena = false,
        };
        // Pool threads that spin while waiting for the next operator hold a core that the other pool thread, our own
        // sampler or another process needs; when one of them loses its core every operator waits for it (measured on a
        // shared 2-core machine: benchmarks/README.md, peer harness). One-thread sessions have no pool to spin.
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        if (options.Provider == ExecutionProvider.Cuda) AppendCuda(so, options.DeviceId);
        try
        {
            return new InferenceSession(modelPath, so);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(modelPath, $"ONNX Runtime could not load the model: {FirstLine(ex.Message)}", ex);
        }
    }

    /// <summary>Models under this many bytes of weights run on one thread by default.</summary>
    public const long SmallModelBytes = 32L << 20;

    /// <summary>
    /// One thread for small models decoding few rows, whose per-operator work is too little for ONNX Runtime's thread
    /// pool to pay for its synchronisation (measured on stories260K: 2 threads decode one row at half the speed of 1);
    /// otherwise (a large model, or <see cref="OnnxModelOptions.BatchRowsForThreads"/> rows per call) one per logical
    /// processor available to the process. Not ONNX Runtime's own default (0): on this project's 2-core machine it ran
    /// one thread, and the 110M-parameter peer model decoded 1.4× faster on two (benchmarks/README.md).
    /// </summary>
    internal static int AutomaticThreads(long weightBytes, long expectedRows) =>
        weightBytes < SmallModelBytes && expectedRows < OnnxModelOptions.BatchRowsForThreads ? 1 : Environment.ProcessorCount;

    /// <summary>The graph file's size plus its external-data file's, if any.</summary>
    private static long WeightBytes(string modelPath)
    {
        var bytes = new FileInfo(modelPath).Length;
        var data = modelPath + ".data";
        return File.Exists(data) ? bytes + new FileInfo(data).Length : bytes;
    }

    private static void AppendCuda(SessionOptions so, int deviceId)
    {
        var env = OrtEnv.Instance();
        var level = env.EnvLogLevel;
        // ONNX Runtime prints a provider library's load failure to stderr itself before it throws; the error below says it in one line.
        env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            so.AppendExecutionProvider_CUDA(deviceId);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            var gpuPackage = CudaProviderInPackage();
            throw new ModelException(CudaUnavailableMessage(gpuPackage, gpuPackage ? MissingCudaLibraries() : [], FirstLine(ex.Message)), ex);
        }
        finally
        {
            env.EnvLogLevel = level;
        }
    }

    /// <summary>
    /// True when the loaded libonnxruntime was built with the CUDA provider (the GPU package, <c>-p:OnnxRuntimeFlavor=Gpu</c>);
    /// the provider's own library and CUDA may still be missing on this host.
    /// </summary>
    internal static bool CudaProviderInPackage()
    {
        try
        {
            return OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// What libonnxruntime_providers_cuda.so of the GPU package (1.31) needs from the host, as <c>readelf -d</c> lists it
    /// (cuDNN is opened at run time); native/README.md has the versions.
    /// </summary>
    internal static readonly (string Library, string What)[] CudaHostLibraries =
    [
        ("libcuda.so.1", "NVIDIA driver"),
        ("libcudart.so.13", "CUDA 13 runtime"),
        ("libcublas.so.13", "cuBLAS 13"),
        ("libcublasLt.so.13", "cuBLASLt 13"),
        ("libcurand.so.10", "cuRAND"),
        ("libcudnn.so.9", "cuDNN 9"),
    ];

    /// <summary>The host libraries of <see cref="CudaHostLibraries"/> that the dynamic loader cannot find, described.</summary>
    internal static IReadOnlyList<string> MissingCudaLibraries()
    {
        var missing = new List<string>();
        foreach (var (library, what) in CudaHostLibraries)
        {
            if (NativeLibrary.TryLoad(library, out var handle)) NativeLibrary.Free(handle);
            else missing.Add($"{library} ({what})");
        }
        return missing;
    }

    /// <summary>
    /// Why <c>--execution-provider cuda</c> failed, in one line: with the CPU package the fix is the GPU build; with the GPU
    /// package it is the host, named by the libraries it lacks (ONNX Runtime's own text only says "failed to load").
    /// </summary>
    internal static string CudaUnavailableMessage(bool gpuPackage, IReadOnlyList<string> missing, string onnxRuntimeSaid) => (gpuPackage
        ? "the CUDA execution provider could not start: this build has ONNX Runtime's GPU package (Microsoft.ML.OnnxRuntime.Gpu.Linux), " +
          "whose CUDA provider needs an NVIDIA driver, CUDA 13 and cuDNN 9 on this host (native/README.md)" +
          (missing.Count > 0 ? $"; not found here: {string.Join(", ", missing)}" : "") + ". Run with --execution-provider cpu on a machine without them."
        : "the CUDA execution provider was requested but this build uses ONNX Runtime's CPU package (Microsoft.ML.OnnxRuntime), " +
          "which has no CUDA provider: build with -p:OnnxRuntimeFlavor=Gpu (package Microsoft.ML.OnnxRuntime.Gpu.Linux; native/README.md) or run with --execution-provider cpu.")
        + $" (ONNX Runtime said: {onnxRuntimeSaid})";

    private static string FirstLine(string s)
    {
        var i = s.IndexOf('\n');
        return (i < 0 ? s : s[..i]).Trim();
    }
}
