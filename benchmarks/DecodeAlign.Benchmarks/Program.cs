using BenchmarkDotNet.Running;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// Runs the BenchmarkDotNet suites (<c>dotnet run -c Release --project benchmarks/DecodeAlign.Benchmarks -- --filter '*'</c>)
/// or, with <c>interleaved</c> as the first argument, the interleaved strategy-cost harness, with <c>soak</c> the chat client's memory soak,
/// with <c>peers</c> the side-by-side comparison with ONNX Runtime GenAI and LLamaSharp, with <c>cli-startup</c> the CLI's
/// fresh-process against warm tok/s, or with <c>gpu-kernels</c> the ILGPU CUDA device check.
/// </summary>
public static class Program
{
    /// <summary>Entry point delegating to BenchmarkSwitcher.</summary>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "interleaved")
            InterleavedStrategyCost.Run(args.Skip(1).ToArray());
        else if (args.Length > 0 && args[0] == "cli-startup")
            Environment.Exit(CliStartup.Run(args.Skip(1).ToArray()));
        else if (args.Length > 0 && args[0] == "gpu-kernels")
            Environment.Exit(GpuKernelCheck.Run(args.Skip(1).ToArray()));
        else if (args.Length > 0 && args[0] == "peers")
            Environment.Exit(Peers.PeerHarness.Run(args.Skip(1).ToArray()));
        else if (args.Length > 0 && args[0] == "soak")
            Environment.Exit(ChatSoak.Run(args.Skip(1).ToArray()));
        else
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
