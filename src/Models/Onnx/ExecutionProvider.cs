namespace DecodeAlign.Models.Onnx;

/// <summary>Where ONNX Runtime runs a model.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU execution provider (always available).</summary>
    Cpu,

    /// <summary>The CUDA execution provider; needs the ONNX Runtime GPU native library, which the CPU package lacks.</summary>
    Cuda,
}
