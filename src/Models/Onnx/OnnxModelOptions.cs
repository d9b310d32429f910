namespace DecodeAlign.Models.Onnx;

/// <summary>Options for loading an ONNX model.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Execution provider; <see cref="ExecutionProvider.Cuda"/> fails with a clear error where the GPU library is absent.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU ordinal for <see cref="ExecutionProvider.Cuda"/>.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 = automatic: 1 for models under 32 MB, else one per physical core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Lets ONNX Runtime's pool threads spin between operators instead of sleeping: a little lower latency on an idle machine, much slower where cores are shared (off by default).</summary>
    public bool AllowSpinning { get; init; }

    /// <summary>Overrides the context length read from the model's config (0 keeps the config's).</summary>
    public int ContextLength { get; init; }

    /// <summary>The defaults: CPU, runtime-chosen thread count.</summary>
    public static OnnxModelOptions Default { get; } = new();
}
