using System.CommandLine;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Cli;

/// <summary>Options shared by the verbs that run models: where they run and with how many threads.</summary>
internal sealed class CommonOptions
{
    public Option<string> Backend { get; } = new("--backend")
    {
        Description = "Kernel backend for the per-token math: auto (CUDA if present, else cpu), cuda, ilgpu-cpu (slow simulator, for tests), cpu (SIMD).",
        DefaultValueFactory = _ => "auto",
    };

    public Option<string> Provider { get; } = new("--execution-provider")
    {
        Description = "ONNX Runtime execution provider: cpu or cuda (needs the ONNX Runtime GPU native library).",
        DefaultValueFactory = _ => "cpu",
    };

    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "ONNX Runtime intra-op threads (0 = automatic: 1 for small models decoding under 64 rows at a time, else one per core).",
        DefaultValueFactory = _ => 0,
    };

    public Option<long> MemoryLimit { get; } = new("--memory-limit")
    {
        Description = "MiB the KV caches and buffers of one run may take; a larger request fails before decoding (0 = half the available memory).",
        DefaultValueFactory = _ => 0,
    };

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Backend);
        cmd.Options.Add(Provider);
        cmd.Options.Add(Threads);
        cmd.Options.Add(MemoryLimit);
    }

    /// <summary>
    /// The ONNX options, checked by the library's rule before any model loads (a failure names its flag through
    /// <see cref="CliErrors.WithFlag"/>); <paramref name="expectedRows"/>: session rows a call will carry, for the automatic thread count.
    /// </summary>
    public OnnxModelOptions ModelOptions(ParseResult pr, long expectedRows = 0)
    {
        var options = new OnnxModelOptions
        {
            Provider = pr.GetValue(Provider)?.ToLowerInvariant() switch
            {
                "cpu" => ExecutionProvider.Cpu,
                "cuda" => ExecutionProvider.Cuda,
                var other => throw new CliUsageException($"--execution-provider must be cpu or cuda (got '{other}')."),
            },
            IntraOpThreads = pr.GetValue(Threads),
            ExpectedRows = expectedRows,
        };
        options.Validate();
        return options;
    }

    /// <summary>The memory limit in bytes.</summary>
    public long ReadMemoryLimit(ParseResult pr) =>
        pr.GetValue(MemoryLimit) is var mib && mib >= 0 ? MemoryBudget.Limit(mib) : throw new CliUsageException($"--memory-limit must be >= 0 MiB (got {mib}).");

    public ITokenKernels CreateKernels(ParseResult pr) => KernelBackends.Create(ParseBackend(pr.GetValue(Backend)));

    public static KernelBackendKind ParseBackend(string? name)
    {
        try
        {
            return KernelBackends.Parse(name ?? "auto");
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException($"--backend: {ex.Message}");
        }
    }
}

