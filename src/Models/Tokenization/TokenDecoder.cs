using System.Text;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// A Hugging Face decoder (tokenizer.json "decoder") as a left-to-right state machine over token strings.
/// Whole-sequence decoding and streaming share one state machine, so their results agree by construction.
/// </summary>
internal abstract class TokenDecoder
{
    /// <summary>A fresh state for one decoded sequence.</summary>
    public abstract DecodeState Start();
}

/// <summary>The running state of one decode: appends to the output only text that can no longer change.</summary>
internal abstract class DecodeState
{
    /// <summary>Feeds the next token string (already filtered for skipped special tokens).</summary>
    public abstract void Push(string token, StringBuilder output);

    /// <summary>Ends the sequence, releasing anything held back.</summary>
    public abstract void Flush(StringBuilder output);
}
