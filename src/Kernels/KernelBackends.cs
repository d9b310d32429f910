using ILGPU;
using ILGPU.Runtime.Cuda;

namespace DecodeAlign.Kernels;

/// <summary>Creates <see cref="ITokenKernels"/> backends and maps the CLI's <c>--backend</c> names.</summary>
public static class KernelBackends
{
    /// <summary>The CLI names, in the order shown in help: auto, cuda, ilgpu-cpu, cpu.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cuda", "ilgpu-cpu", "cpu"];

    /// <summary>Parses a CLI backend name (case-insensitive); throws an <see cref="ArgumentException"/> listing the valid names.</summary>
    public static KernelBackendKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => KernelBackendKind.Auto,
        "cuda" => KernelBackendKind.Cuda,
        "ilgpu-cpu" => KernelBackendKind.IlgpuCpu,
        "cpu" => KernelBackendKind.Cpu,
        _ => throw new ArgumentException($"unknown backend '{name}' (expected one of: {string.Join(", ", Names)})"),
    };

    /// <summary>The CLI name of a kind (inverse of <see cref="Parse"/>).</summary>
    public static string ToName(KernelBackendKind kind) => kind switch
    {
        KernelBackendKind.Auto => "auto",
        KernelBackendKind.Cuda => "cuda",
        KernelBackendKind.IlgpuCpu => "ilgpu-cpu",
        KernelBackendKind.Cpu => "cpu",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// False in a native AOT build (the CLI's default publish): ILGPU compiles kernels from their IL at run time, which
    /// needs dynamic code, so there only the SIMD backend exists.
    /// </summary>
    public static bool IlgpuAvailable => System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported;

    /// <summary>True when ILGPU finds at least one CUDA device (false, never an exception, where the driver is missing or ILGPU cannot run).</summary>
    public static bool CudaAvailable()
    {
        if (!IlgpuAvailable) return false;
        // Without the driver's library there is no device to find: skipping ILGPU's context then saves a CLI start about
        // 0.15 s of loading and JIT (--backend auto asks this on every run).
        if (!DriverLibraryPresent()) return false;
        return IlgpuFindsCudaDevice();
    }

    private static bool DriverLibraryPresent()
    {
        var name = OperatingSystem.IsWindows() ? "nvcuda.dll" : OperatingSystem.IsLinux() ? "libcuda.so.1" : null;
        if (name is null) return true; // no cheap check known here: let ILGPU decide
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out var handle)) return false;
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return true;
    }

    // Kept out of CudaAvailable so that the JIT loads ILGPU's types only where a driver exists.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IlgpuFindsCudaDevice()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// Creates a backend: Auto picks CUDA when a device exists, otherwise the SIMD CPU backend; Cuda throws an
    /// <see cref="BackendUnavailableException"/> with a clear message when no CUDA device is present.
    /// </summary>
    public static ITokenKernels Create(KernelBackendKind kind = KernelBackendKind.Auto) => kind switch
    {
        KernelBackendKind.Cuda or KernelBackendKind.IlgpuCpu when !IlgpuAvailable => throw new BackendUnavailableException(
            $"--backend {ToName(kind)} needs ILGPU, which cannot run in this native AOT build of decodealign (no dynamic code); use --backend cpu, " +
            "or publish with -p:PublishAot=false (ReadyToRun, ILGPU included)"),
        KernelBackendKind.Auto => CudaAvailable() ? IlgpuTokenKernels.CreateCuda() : new SimdTokenKernels(),
        KernelBackendKind.Cuda => CudaAvailable()
            ? IlgpuTokenKernels.CreateCuda()
            : throw new BackendUnavailableException("--backend cuda was requested but no CUDA device was found (no NVIDIA GPU or driver visible to ILGPU); use --backend cpu or auto"),
        KernelBackendKind.IlgpuCpu => IlgpuTokenKernels.CreateCpu(),
        KernelBackendKind.Cpu => new SimdTokenKernels(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Parses a CLI name and creates that backend.</summary>
    public static ITokenKernels Create(string name) => Create(Parse(name));
}
