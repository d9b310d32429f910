namespace DecodeAlign.Models.Onnx;

/// <summary>Options for loading an ONNX model.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Execution provider; <see cref="ExecutionProvider.Cuda"/> fails with a clear error where the GPU library is absent.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>GPU ordinal for <see cref="ExecutionProvider.Cuda"/>.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 = automatic: one per logical processor available to the process for models of 32 MB and more or for calls of <see cref="BatchRowsForThreads"/> rows and more (<see cref="ExpectedRows"/>), else 1.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Session rows a typical call carries (prompts × the strategy's rows per prompt), a hint for the automatic thread count; 0 = unknown (one row).</summary>
    public long ExpectedRows { get; init; }

    /// <summary>
    /// Rows per call from which the automatic thread count uses every logical processor even for a small model: measured
    /// on the built-in 0.9M-parameter models, best-of-16 and SMC with 16 particles over 16 prompts (256 rows) ran 1.1–1.5×
    /// faster on two threads than on one and DeAL (160 rows) 1.25×, while 16–32 rows (plain sampling, ARGS, QAlign) gained nothing.
    /// </summary>
    public const long BatchRowsForThreads = 64;

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
        if (ExpectedRows < 0) throw new ArgumentException($"expected rows must be >= 0 (got {ExpectedRows}).");
    }

    /// <summary>The defaults: CPU, runtime-chosen thread count.</summary>
    public static OnnxModelOptions Default { get; } = new();
}
