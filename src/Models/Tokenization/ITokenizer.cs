namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Text to token ids and back, as decoding needs it: what <see cref="TextTokenizer"/> does for Hugging Face tokenizer
/// files, and what another backend (a server that tokenizes for its model) would offer in its place.
/// </summary>
public interface ITokenizer
{
    /// <summary>The file (or address) the tokenizer was loaded from, for error messages.</summary>
    string Source { get; }

    /// <summary>Number of token ids, added and special tokens included (largest id + 1).</summary>
    int VocabSize { get; }

    /// <summary>The special-token ids.</summary>
    SpecialTokens Special { get; }

    /// <summary>Whether <see cref="Encode"/> prepends the beginning-of-sequence token when asked for special tokens.</summary>
    bool AddBosToken { get; }

    /// <summary>Encodes text; with <paramref name="addSpecialTokens"/> the BOS (and EOS where configured) tokens are added.</summary>
    int[] Encode(string text, bool addSpecialTokens = true);

    /// <summary>Decodes ids to text; ids outside the vocabulary are ignored.</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true);

    /// <summary>Starts an incremental decoder whose pieces concatenate to exactly what <see cref="Decode"/> returns.</summary>
    IStreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = true);

    /// <summary>The token string of <paramref name="id"/>, or null when the id is not in the vocabulary.</summary>
    string? IdToToken(int id);

    /// <summary>The id of an exact token string (vocabulary or added token), or null.</summary>
    int? TokenToId(string token);
}
