using Microsoft.ML.OnnxRuntime;

namespace DecodeAlign.Models.Onnx;

/// <summary>Creates ONNX Runtime sessions from <see cref="OnnxModelOptions"/>, turning load failures into specific errors.</summary>
internal static class OnnxSessionFactory
{
    public static InferenceSession Create(string modelPath, OnnxModelOptions options)
    {
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : AutomaticThreads(modelPath),
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
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
    /// One thread for small models, whose per-operator work is too little for ONNX Runtime's thread pool to pay for
    /// its synchronisation (measured on stories260K: 2 threads decode at half the speed of 1); otherwise 0, i.e. ONNX
    /// Runtime's default of one thread per physical core.
    /// </summary>
    private static int AutomaticThreads(string modelPath)
    {
        var bytes = new FileInfo(modelPath).Length;
        var data = modelPath + ".data";
        if (File.Exists(data)) bytes += new FileInfo(data).Length;
        return bytes < SmallModelBytes ? 1 : 0;
    }

    private static void AppendCuda(SessionOptions so, int deviceId)
    {
        try
        {
            so.AppendExecutionProvider_CUDA(deviceId);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            // The CPU package ships no libonnxruntime_providers_cuda; say what to install instead of ORT's generic text.
            throw new ModelException(
                "The CUDA execution provider was requested but ONNX Runtime's GPU native library (libonnxruntime_providers_cuda with CUDA 12 and cuDNN 9) " +
                "is not available: this build uses the CPU package Microsoft.ML.OnnxRuntime. Reference Microsoft.ML.OnnxRuntime.Gpu instead, or run with the CPU provider. " +
                $"(ONNX Runtime said: {FirstLine(ex.Message)})", ex);
        }
    }

    private static string FirstLine(string s)
    {
        var i = s.IndexOf('\n');
        return (i < 0 ? s : s[..i]).Trim();
    }
}
