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
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
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
