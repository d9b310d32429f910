namespace DecodeAlign.Models.Onnx;

/// <summary>Options for loading an ONNX model.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Execution provider; <see cref="ExecutionProvider.Cuda"/> fails with a clear error where the GPU library is absent.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU ordinal for <see cref="ExecutionProvider.Cuda"/>.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 = automatic: 1 for models under 32 MB, else one per logical processor available to the process.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Lets ONNX Runtime's pool threads spin between operators instead of sleeping: a little lower latency on an idle machine, much slower where cores are shared (off by default).</summary>
    public bool AllowSpinning { get; init; }

    /// <summary>Overrides the context length read from the model's config (0 keeps the config's).</summary>
    public int ContextLength { get; init; }

    /// <summary>
    /// The most intra-op threads accepted: 4 per logical processor. More only slow ONNX Runtime down, and a huge count
    /// made it spin up thousands of threads and never return.
    /// </summary>
    public static int MaxIntraOpThreads => 4 * Environment.ProcessorCount;

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (IntraOpThreads < 0 || IntraOpThreads > MaxIntraOpThreads)
            throw new ArgumentException($"intra-op threads must be 0 (automatic) to {MaxIntraOpThreads}, 4 per logical processor (got {IntraOpThreads}).");
        if (DeviceId < 0) throw new ArgumentException($"device id must be >= 0 (got {DeviceId}).");
        if (ContextLength < 0) throw new ArgumentException($"context length must be >= 0 (got {ContextLength}).");
    }

    /// <summary>The defaults: CPU, runtime-chosen thread count.</summary>
    public static OnnxModelOptions Default { get; } = new();
}
