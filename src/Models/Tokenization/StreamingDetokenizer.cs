using System.Text;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Turns generated ids into text one id at a time, returning only text that later ids cannot change: incomplete
/// UTF-8 characters, unfinished byte-fallback runs and strippable trailing characters wait for the next id.
/// Concatenating every <see cref="Push"/> result and the <see cref="Flush"/> result gives exactly <see cref="TextTokenizer.Decode"/>.
/// </summary>
public sealed class StreamingDetokenizer : IStreamingDetokenizer
{
    private readonly TextTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly StringBuilder _text = new();
    private DecodeState _state;

    internal StreamingDetokenizer(TextTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        _state = tokenizer.StartDecoding();
    }

    /// <summary>Adds one id and returns the text it completes (often empty, sometimes more than one token's worth).</summary>
    public string Push(int id)
    {
        if (_tokenizer.TokenForDecoding(id, _skipSpecialTokens) is not { } token) return "";
        _text.Clear();
        _state.Push(token, _text);
        return _text.ToString();
    }

    /// <summary>Ends the sequence and returns what was held back; the next <see cref="Push"/> starts a new sequence.</summary>
    public string Flush()
    {
        _text.Clear();
        _state.Flush(_text);
        _state = _tokenizer.StartDecoding();
        return _text.ToString();
    }
}
