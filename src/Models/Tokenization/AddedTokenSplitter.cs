namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Finds added tokens in text the way HF's AddedVocabulary does: leftmost match, longest token at that position,
/// widened over neighbouring whitespace for lstrip/rstrip tokens and refused inside words for single_word tokens.
/// The text between matches goes to the model; the matches become their ids directly.
/// </summary>
internal sealed class AddedTokenSplitter
{
    // A character trie keeps the scan linear even for families of similar tokens (GPT-2/CodeGen's 30 space runs).
    private sealed class Node
    {
        public Dictionary<char, Node>? Next;
        public AddedToken? Token;
    }

    private readonly Node _root = new();

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        foreach (var token in tokens)
        {
            if (token.Content.Length == 0) continue;
            var node = _root;
            foreach (char c in token.Content)
            {
                node.Next ??= [];
                if (!node.Next.TryGetValue(c, out var child)) node.Next[c] = child = new Node();
                node = child;
            }
            node.Token ??= token;
        }
    }

    public bool IsEmpty => _root.Next is null;

    /// <summary>Splits <paramref name="text"/> into pieces, each either plain text (Token null) or one added token.</summary>
    public IEnumerable<(int Start, int Length, AddedToken? Token)> Split(string text)
    {
        if (IsEmpty)
        {
            if (text.Length > 0) yield return (0, text.Length, null);
            yield break;
        }
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

    /// <summary>The longest token starting at <paramref name="i"/> (skipping single_word tokens inside words).</summary>
    private bool TryMatchAt(string text, int i, out AddedToken token)
    {
        token = null!;
        var node = _root;
        for (int j = i; j < text.Length && node.Next is not null && node.Next.TryGetValue(text[j], out node); j++)
        {
            if (node.Token is { } candidate && (!candidate.SingleWord || IsWordBoundary(text, i, j + 1))) token = candidate;
        }
        return token is not null;
    }

    private static bool IsWordBoundary(string text, int start, int end) =>
        (start == 0 || !char.IsLetterOrDigit(text[start - 1])) && (end == text.Length || !char.IsLetterOrDigit(text[end]));
}
