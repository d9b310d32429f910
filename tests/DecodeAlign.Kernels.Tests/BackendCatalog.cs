using DecodeAlign.Kernels;

namespace DecodeAlign.Kernels.Tests;

/// <summary>The backends under test, created once per test run (ILGPU contexts are expensive), plus the reference.</summary>
internal static class BackendCatalog
{
    private static readonly Lazy<ITokenKernels> Simd = new(() => KernelBackends.Create(KernelBackendKind.Cpu));
    private static readonly Lazy<ITokenKernels> IlgpuCpu = new(() => KernelBackends.Create(KernelBackendKind.IlgpuCpu));

    public static ITokenKernels Reference { get; } = new ReferenceKernels();

    /// <summary>Backend by CLI name ("cpu", "ilgpu-cpu").</summary>
    public static ITokenKernels Get(string name) => name switch
    {
        "cpu" => Simd.Value,
        "ilgpu-cpu" => IlgpuCpu.Value,
        _ => throw new ArgumentException(name),
    };

    /// <summary>xunit theory data: every backend name.</summary>
    public static TheoryData<string> Names => new() { "cpu", "ilgpu-cpu" };
}
