using System.Text;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>Checks shared by the tokenizer tests.</summary>
internal static class TokenizerAssert
{
    /// <summary>Texts that exercise non-ASCII, byte fallback, control characters and whitespace runs.</summary>
    public static readonly string[] HardTexts =
    [
        "Hello world",
        "héllo wörld, ça va? Ñandú",
        "你好，世界！日本語のテキスト",
        "emoji: 😀👍🏽 and 👨‍👩‍👧 family",
        "tabs\tand\nnewlines\r\n\n end",
        "multiple   spaces    here     ",
        "  leading and trailing  ",
        "control\u0001\u0007\u001f chars",
        "Ω≈ç√∫˜µ≤≥÷ ŒŽ",
        "a",
        " ",
        "",
    ];

    /// <summary>Short random strings mixing words, whitespace runs, "▁", accents, CJK, emoji and control characters.</summary>
    public static IEnumerable<string> RandomTexts(int seed, int count)
    {
        string[] pool = ["the", "he", "world", "Hello", "a", "in", " ", " ", " ", "  ", "\n", "\t", "\u2581", "é", "ñ", "你", "好", "😀", "\u0001", "\r", "\u00a0", "\u3000", "\u2028", ".", ",", "'s", "ing", "x", "Q", "7"];
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
            yield return string.Concat(Enumerable.Range(0, random.Next(1, 15)).Select(_ => pool[random.Next(pool.Length)]));
    }

    /// <summary>Streams ids one at a time and checks the pieces concatenate to Decode and never split a character.</summary>
    public static string StreamAndCompare(TextTokenizer tokenizer, IReadOnlyList<int> ids, bool skipSpecialTokens)
    {
        var stream = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens);
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            string piece = stream.Push(id);
            AssertWellFormed(piece);
            text.Append(piece);
        }
        string tail = stream.Flush();
        AssertWellFormed(tail);
        text.Append(tail);
        string expected = tokenizer.Decode(ids.ToArray(), skipSpecialTokens);
        Assert.Equal(expected, text.ToString());
        return text.ToString();
    }

    private static void AssertWellFormed(string piece)
    {
        for (int i = 0; i < piece.Length; i++)
        {
            if (char.IsHighSurrogate(piece[i]))
            {
                Assert.True(i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]), $"piece ends inside a surrogate pair: {piece}");
                i++;
            }
            else Assert.False(char.IsLowSurrogate(piece[i]), $"piece starts with a lone low surrogate: {piece}");
        }
    }
}
