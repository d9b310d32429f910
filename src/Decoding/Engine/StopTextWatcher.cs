using System.Text;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Decoding.Engine;

/// <summary>
/// Turns one row's generated tokens into text (never a broken UTF-8 character), finds stop strings in it, and
/// releases only text that can no longer turn out to be the start of a stop string, so streamed output never shows
/// text that is later cut.
/// </summary>
internal sealed class StopTextWatcher
{
    private readonly IStreamingDetokenizer _detokenizer;
    private readonly IReadOnlyList<string> _stops;
    private readonly StringBuilder _text = new();
    private int _released;

    /// <summary>Starts after <paramref name="prompt"/>, whose text is consumed but not part of the response.</summary>
    public StopTextWatcher(ITokenizer tokenizer, ReadOnlySpan<int> prompt, IReadOnlyList<string> stops)
    {
        _detokenizer = tokenizer.CreateStreamingDetokenizer();
        foreach (var id in prompt) _detokenizer.Push(id);
        _stops = stops;
    }

    /// <summary>The response text so far (without a stop string once one was found).</summary>
    public string Text => _text.ToString();

    /// <summary>True once the text reached a stop string.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a token; returns true when it completed a stop string.</summary>
    public bool Push(int token)
    {
        var before = _text.Length;
        _text.Append(_detokenizer.Push(token));
        return CheckStops(before);
    }

    /// <summary>Adds whatever the detokenizer still held back (end of the response); returns true on a stop string.</summary>
    public bool Flush()
    {
        var before = _text.Length;
        _text.Append(_detokenizer.Flush());
        return CheckStops(before);
    }

    private bool CheckStops(int before)
    {
        if (Stopped || _stops.Count == 0) return Stopped;
        var cut = -1;
        foreach (var stop in _stops)
        {
            // Only a match that ends in the new text is new; search from where it could begin.
            var from = Math.Max(0, before - stop.Length + 1);
            var i = _text.ToString(from, _text.Length - from).IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || from + i < cut)) cut = from + i;
        }
        if (cut < 0) return false;
        _text.Length = cut;
        return Stopped = true;
    }

    /// <summary>Text not yet released that can no longer become part of a stop string.</summary>
    public string TakeReleasable(bool final)
    {
        var hold = final || Stopped ? 0 : HeldBack();
        var end = Math.Max(_released, _text.Length - hold);
        var delta = _text.ToString(_released, end - _released);
        _released = end;
        return delta;
    }

    private int HeldBack()
    {
        var hold = 0;
        foreach (var stop in _stops)
            for (var n = Math.Min(stop.Length - 1, _text.Length); n > hold; n--)
                if (_text.ToString(_text.Length - n, n) == stop[..n]) { hold = n; break; }
        return hold;
    }
}
