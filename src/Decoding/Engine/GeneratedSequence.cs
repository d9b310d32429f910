namespace DecodeAlign.Decoding.Engine;

/// <summary>One row's response as the rollout engine left it: its tokens, text and why it ended.</summary>
public sealed class GeneratedSequence
{
    /// <summary>Generated tokens (EOS excluded, a stop string's tokens included).</summary>
    public List<int> Tokens { get; } = [];

    /// <summary>Generated text (without a stop string).</summary>
    public string Text { get; set; } = "";

    /// <summary>Why the response ended.</summary>
    public FinishReason Finish { get; set; } = FinishReason.MaxTokens;
}
