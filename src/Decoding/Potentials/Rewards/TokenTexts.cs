using System.Runtime.CompilerServices;
using System.Text;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// Turns a prefix scorer's rows back into the text programmatic rewards read, the way the strategies do (the
/// prompt's tokens are fed to a streaming detokenizer and dropped, the response's are kept), and caches each token's
/// text in context (its "piece") so that a row extended by one token is usually the row's text plus that piece
/// instead of a new decode. Built once per tokenizer and shared; immutable, so thread-safe.
/// </summary>
internal sealed class TokenTexts
{
    private static readonly ConditionalWeakTable<ITokenizer, TokenTexts> Cache = new();

    private TokenTexts(ITokenizer tokenizer, int vocabSize)
    {
        Tokenizer = tokenizer;
        Pieces = new string?[vocabSize];
        // A token's text in context is what it adds after a plain token: decoders treat the first piece specially
        // (strip a leading space, no joining space), which a row's prompt has already taken.
        var anchor = FindAnchor(tokenizer);
        if (anchor is int a)
        {
            var head = tokenizer.Decode([a]);
            for (var v = 0; v < vocabSize; v++)
            {
                // A byte token that is part of a character decodes to U+FFFD as the last token, as it does here; the
                // token after it may complete the character, which CanAppend checks.
                var both = tokenizer.Decode([a, v]);
                if (both.StartsWith(head, StringComparison.Ordinal)) Pieces[v] = both[head.Length..];
            }
        }
        SimpleIds = Enumerable.Range(0, vocabSize).Where(v => Pieces[v] is not null).ToArray();
        SimplePieces = SimpleIds.Select(v => Pieces[v]!).ToArray();
        ComplexIds = Enumerable.Range(0, vocabSize).Where(v => Pieces[v] is null).ToArray();
    }

    /// <summary>The shared texts of <paramref name="tokenizer"/> for a model vocabulary of <paramref name="vocabSize"/> ids.</summary>
    public static TokenTexts For(ITokenizer tokenizer, int vocabSize)
    {
        var texts = Cache.GetValue(tokenizer, t => new TokenTexts(t, vocabSize));
        return texts.Pieces.Length == vocabSize ? texts : new TokenTexts(tokenizer, vocabSize);
    }

    /// <summary>The tokenizer the texts come from.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Per token id, its text in context, or null when it must be decoded with its neighbours.</summary>
    public string?[] Pieces { get; }

    /// <summary>The ids with a piece, in order.</summary>
    public int[] SimpleIds { get; }

    /// <summary>The pieces of <see cref="SimpleIds"/>.</summary>
    public string[] SimplePieces { get; }

    /// <summary>The ids without a piece, in order.</summary>
    public int[] ComplexIds { get; }

    /// <summary>
    /// Whether a row whose prompt decodes to <paramref name="promptText"/> and response to <paramref name="responseText"/>
    /// extended by a token with a piece decodes to the response plus the piece: true once some text precedes (the
    /// first piece is special) and the response does not end in U+FFFD, which may be an unfinished character the
    /// token completes. Exact for byte-level BPE and SentencePiece-style decoders; a decoder that strips trailing
    /// characters (a Strip decoder with stop &gt; 0) would keep them here.
    /// </summary>
    public static bool CanAppend(string promptText, string responseText) =>
        promptText.Length + responseText.Length > 0 && !responseText.EndsWith('\uFFFD');

    /// <summary>The response text of a row: the strategies' text for <paramref name="response"/> after <paramref name="prompt"/>.</summary>
    public string ResponseText(ReadOnlySpan<int> prompt, ReadOnlySpan<int> response, int? extra = null)
    {
        var detokenizer = Tokenizer.CreateStreamingDetokenizer();
        foreach (var id in prompt) detokenizer.Push(id);
        var text = new StringBuilder(response.Length * 4);
        foreach (var id in response) text.Append(detokenizer.Push(id));
        if (extra is int e) text.Append(detokenizer.Push(e));
        text.Append(detokenizer.Flush());
        return text.ToString();
    }

    /// <summary>A token whose text is plain letters or digits, preferred as the context pieces are measured after.</summary>
    private static int? FindAnchor(ITokenizer tokenizer)
    {
        int? fallback = null;
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            if (tokenizer.Special.AllSpecialIds.Contains(id)) continue;
            var text = tokenizer.Decode([id]);
            if (text.Length == 0 || text.Contains('\uFFFD')) continue;
            if (text.All(char.IsAsciiLetterOrDigit)) return id;
            fallback ??= id;
        }
        return fallback;
    }
}
