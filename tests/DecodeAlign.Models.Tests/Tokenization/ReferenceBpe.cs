using System.Globalization;
using System.Text;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>
/// A deliberately naive transcription of HF's BPE word model (characters, byte fallback, then repeatedly the
/// lowest-ranked adjacent merge, leftmost first), used to cross-check the library-based encoder.
/// </summary>
internal sealed class ReferenceBpe(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string unk, bool byteFallback)
{
    private readonly Dictionary<(string, string), int> _ranks = merges.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);

    public List<int> EncodeWord(string word)
    {
        var symbols = new List<string>();
        var runes = word.EnumerateRunes().ToList();
        foreach (var rune in runes)
        {
            string s = rune.ToString();
            if (vocab.ContainsKey(s)) { symbols.Add(s); continue; }
            var bytes = Encoding.UTF8.GetBytes(s).Select(b => $"<0x{b:X2}>").ToList();
            if (byteFallback && bytes.All(vocab.ContainsKey)) symbols.AddRange(bytes);
            else symbols.Add(unk);
        }
        while (true)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank) { best = i; bestRank = rank; }
            if (best < 0) break;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
        return symbols.Select(s => vocab[s]).ToList();
    }

    /// <summary>The Llama-2 legacy normalization: "▁" prepended to non-empty text, spaces replaced by "▁".</summary>
    public static string LlamaNormalize(string text) => text.Length == 0 ? "" : "\u2581" + text.Replace(' ', '\u2581');

    /// <summary>The Metaspace pre-tokenizer's rewrite: spaces become "▁", then "▁" is prepended unless already first.</summary>
    public static string MetaspaceNormalize(string text)
    {
        string replaced = text.Replace(' ', '\u2581');
        return replaced.Length == 0 || replaced[0] == '\u2581' ? replaced : "\u2581" + replaced;
    }

    public static string ByteToken(byte b) => string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>");
}
