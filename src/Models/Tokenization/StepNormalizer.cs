using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// A Hugging Face normalizer sequence (Prepend, Replace, NFC/NFD/NFKC/NFKD, Lowercase) for layouts that the
/// library's <see cref="SentencePieceNormalizer"/> does not express exactly.
/// </summary>
internal sealed class StepNormalizer(IReadOnlyList<Func<string, string>> steps) : Normalizer
{
    public override string Normalize(string original)
    {
        foreach (var step in steps) original = step(original);
        return original;
    }

    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());

    // HF's Prepend leaves an empty string empty, so "" never becomes "▁".
    public static Func<string, string> Prepend(string prefix) => s => s.Length == 0 ? s : prefix + s;

    public static Func<string, string> Replace(string pattern, string content) => s => s.Replace(pattern, content, StringComparison.Ordinal);

    public static Func<string, string> ReplaceRegex(Regex pattern, string content) => s => pattern.Replace(s, content);

    public static Func<string, string> Unicode(NormalizationForm form) => s => s.Normalize(form);

    public static Func<string, string> Lowercase() => s => s.ToLowerInvariant();
}
