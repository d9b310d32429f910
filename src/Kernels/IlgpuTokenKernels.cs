namespace DecodeAlign.Kernels;

/// <summary>ILGPU backend (stub while the kernels are written).</summary>
public sealed class IlgpuTokenKernels
{
    internal static ITokenKernels CreateCuda() => throw new NotImplementedException();
    internal static ITokenKernels CreateCpu() => throw new NotImplementedException();
}
