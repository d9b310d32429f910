namespace DecodeAlign.Kernels;

/// <summary>Which implementation of <see cref="ITokenKernels"/> to use; CLI names: auto, cuda, ilgpu-cpu, cpu.</summary>
public enum KernelBackendKind
{
    /// <summary>CUDA (ILGPU) when a CUDA device is present, otherwise the SIMD CPU backend.</summary>
    Auto,

    /// <summary>ILGPU on a CUDA device; fails with a clear message when none is present.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator: a slow simulator of the GPU kernels, for tests and debugging.</summary>
    IlgpuCpu,

    /// <summary>SIMD CPU backend (TensorPrimitives / Vector&lt;T&gt;).</summary>
    Cpu,
}
