using System.Text;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// A length penalty: −1 per unit of response length above <see cref="Limit"/> (0 up to it). The unit is a token of
/// the given tokenizer (the LM's, re-encoding the text without special tokens), or without one a Unicode character
/// (rune). The prefix form is the same penalty on the prefix, exact since a response only grows.
/// </summary>
public sealed class LengthReward : TextReward
{
    private readonly ITokenizer? _tokenizer;

    /// <summary>Penalises responses longer than <paramref name="limit"/> tokens of <paramref name="tokenizer"/> (characters when null).</summary>
    public LengthReward(int limit, ITokenizer? tokenizer = null) : base($"length:{limit}")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
        _tokenizer = tokenizer;
    }

    /// <summary>The longest response without a penalty.</summary>
    public int Limit { get; }

    /// <summary>The response's length in this reward's unit.</summary>
    public int Length(string text) => _tokenizer is null ? RuneCount(text) : _tokenizer.Encode(text, addSpecialTokens: false).Length;

    /// <inheritdoc />
    public override float Score(string prompt, string response) => -Math.Max(0, Length(response) - Limit);

    /// <inheritdoc />
    public override bool ScoresPrefixes => true;

    /// <inheritdoc />
    public override float ScorePrefix(string prompt, string prefix) => Score(prompt, prefix);

    /// <summary>
    /// Characters add up, so each extension costs its own length. Tokens do not (BPE may merge across the join), but
    /// every token covers at least one UTF-8 byte (plus one for a SentencePiece word-start marker), so texts that
    /// short cannot be over the limit; only longer ones are re-encoded (20–60 µs each with the arith tokenizer, so about 10 ms per row and step in a candidate session over its 465 tokens).
    /// </summary>
    public override void ScoreExtensions(string prompt, string prefix, ReadOnlySpan<string> extensions, Span<float> scores)
    {
        if (scores.Length != extensions.Length) throw new ArgumentException($"Expected {extensions.Length} score slots, got {scores.Length}.", nameof(scores));
        if (_tokenizer is null)
        {
            var runes = RuneCount(prefix);
            for (var i = 0; i < extensions.Length; i++) scores[i] = -Math.Max(0, runes + RuneCount(extensions[i]) - Limit);
            return;
        }
        var bytes = Encoding.UTF8.GetByteCount(prefix) + 1;
        for (var i = 0; i < extensions.Length; i++)
            scores[i] = bytes + Encoding.UTF8.GetByteCount(extensions[i]) <= Limit ? 0f : ScorePrefix(prompt, string.Concat(prefix, extensions[i]));
    }

    private static int RuneCount(string text)
    {
        var n = 0;
        foreach (var _ in text.EnumerateRunes()) n++;
        return n;
    }
}
