using BenchmarkDotNet.Running;

namespace DecodeAlign.Benchmarks;

/// <summary>Runs the BenchmarkDotNet suites: <c>dotnet run -c Release --project benchmarks/DecodeAlign.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    /// <summary>Entry point delegating to BenchmarkSwitcher.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
