namespace DecodeAlign.Models.Onnx;

/// <summary>The KV-cache layout of an ONNX decoder, as discovered from its graph and config files.</summary>
/// <param name="NumLayers">Decoder layers (pairs of past key/value tensors).</param>
/// <param name="NumKvHeads">Key/value heads per layer.</param>
/// <param name="HeadSize">Size of each key/value head.</param>
/// <param name="IsHalf">True when the KV cache is fp16, false for fp32.</param>
public sealed record KvCacheShape(int NumLayers, int NumKvHeads, int HeadSize, bool IsHalf);
