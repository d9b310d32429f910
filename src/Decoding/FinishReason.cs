namespace DecodeAlign.Decoding;

/// <summary>Why a response ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced an end-of-sequence token.</summary>
    EndOfSequence,

    /// <summary>The decoded text reached a stop string.</summary>
    StopString,

    /// <summary>The response reached the maximum number of new tokens.</summary>
    MaxTokens,

    /// <summary>The sequence reached the model's context length.</summary>
    ContextLength,

    /// <summary>The caller cancelled; the response holds what was generated until then (a search: its best state so far).</summary>
    Cancelled,

    /// <summary>Early pruning (best-of-N's Speculative Rejection) stopped this candidate before it finished.</summary>
    Pruned,
}
