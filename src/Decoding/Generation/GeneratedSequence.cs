namespace DecodeAlign.Decoding.Generation;

/// <summary>One row's response as the <see cref="SequenceGenerator"/> left it.</summary>
internal sealed class GeneratedSequence
{
    public List<int> Tokens { get; } = [];

    public string Text { get; set; } = "";

    public FinishReason Finish { get; set; } = FinishReason.MaxTokens;
}
