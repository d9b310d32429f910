namespace DecodeAlign.Models;

/// <summary>What a KV-cached decoder outputs at each position.</summary>
public enum DecoderOutputKind
{
    /// <summary>Next-token logits over the vocabulary (a causal LM).</summary>
    Logits,

    /// <summary>One scalar per position: a reward model scoring every prefix.</summary>
    Scores,

    /// <summary>V(s, a) for every possible next token a: a value model with a vocabulary-wide head.</summary>
    Values,
}

/// <summary>What callers need to know about a decoder: sizes, context length, special tokens and what its backend offers.</summary>
/// <param name="Source">The file the model was loaded from (used in error messages).</param>
/// <param name="Output">What the decoder outputs per position.</param>
/// <param name="VocabSize">Number of token ids the model accepts.</param>
/// <param name="OutputWidth">Values per position: the vocabulary size for logits and values, 1 for scores.</param>
/// <param name="ContextLength">Maximum number of tokens a row may hold.</param>
/// <param name="BosTokenId">Beginning-of-sequence token from the model config, if any.</param>
/// <param name="EosTokenIds">End-of-sequence tokens from the model config (may be empty).</param>
/// <param name="PadTokenId">Padding token from the model config, if any.</param>
public sealed record DecoderInfo(
    string Source,
    DecoderOutputKind Output,
    int VocabSize,
    int OutputWidth,
    int ContextLength,
    int? BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId)
{
    /// <summary>What the backend offers: full outputs or top-k log-probabilities only, and which session operations work (all of them unless set).</summary>
    public DecoderCapabilities Capabilities { get; init; } = DecoderCapabilities.Full;
}
