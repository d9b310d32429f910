namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Finds added tokens in text the way HF's AddedVocabulary does: leftmost match, longest token at that position,
/// widened over neighbouring whitespace for lstrip/rstrip tokens and refused inside words for single_word tokens.
/// The text between matches goes to the model; the matches become their ids directly.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> into pieces, each either plain text (Token null) or one added token.</summary>
    public IEnumerable<(int Start, int Length, AddedToken? Token)> Split(string text)
    {
        int plainStart = 0, i = 0;
        while (i < text.Length)
        {
            if (!TryMatchAt(text, i, out var token))
            {
                i++;
                continue;
            }
            int start = i, end = i + token.Content.Length;
            if (token.LStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) yield return (plainStart, start - plainStart, null);
            yield return (start, end - start, token);
            plainStart = i = end;
        }
        if (plainStart < text.Length) yield return (plainStart, text.Length - plainStart, null);
    }

    private bool TryMatchAt(string text, int i, out AddedToken token)
    {
        token = null!;
        if (!_byFirstChar.TryGetValue(text[i], out var candidates)) return false;
        foreach (var candidate in candidates)
        {
            if (i + candidate.Content.Length > text.Length
                || string.CompareOrdinal(text, i, candidate.Content, 0, candidate.Content.Length) != 0) continue;
            if (candidate.SingleWord && !IsWordBoundary(text, i, i + candidate.Content.Length)) continue;
            token = candidate;
            return true;
        }
        return false;
    }

    private static bool IsWordBoundary(string text, int start, int end) =>
        (start == 0 || !char.IsLetterOrDigit(text[start - 1])) && (end == text.Length || !char.IsLetterOrDigit(text[end]));
}
