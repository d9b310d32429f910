namespace DecodeAlign.Models;

/// <summary>What callers need to know about a causal decoder: sizes, context length and special tokens.</summary>
/// <param name="Source">The file the model was loaded from (used in error messages).</param>
/// <param name="VocabSize">Width of the logits (or of the vocabulary-wide value head).</param>
/// <param name="ContextLength">Maximum number of tokens a row may hold.</param>
/// <param name="NumLayers">Decoder layers (pairs of past key/value tensors).</param>
/// <param name="NumKvHeads">Key/value heads per layer.</param>
/// <param name="HeadSize">Size of each key/value head.</param>
/// <param name="BosTokenId">Beginning-of-sequence token from the model config, if any.</param>
/// <param name="EosTokenIds">End-of-sequence tokens from the model config (may be empty).</param>
/// <param name="PadTokenId">Padding token from the model config, if any.</param>
/// <param name="KvCacheIsHalf">True when the KV cache is fp16, false for fp32.</param>
public sealed record CausalLmInfo(
    string Source,
    int VocabSize,
    int ContextLength,
    int NumLayers,
    int NumKvHeads,
    int HeadSize,
    int? BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId,
    bool KvCacheIsHalf);
