using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Hands the whole text to the model as one word. Hugging Face runs BPE over the entire normalized string when a
/// tokenizer.json has no pre-tokenizer (the Llama-2 layout, where merges such as "▁ t" cross word boundaries);
/// the library would otherwise substitute its own whitespace splitter.
/// </summary>
internal sealed class WholeTextPreTokenizer : PreTokenizer
{
    public static WholeTextPreTokenizer Instance { get; } = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : [(0, text.Length)];

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : [(0, text.Length)];
}
