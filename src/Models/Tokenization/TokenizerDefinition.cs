using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>Everything read from tokenizer files, in the form the library and the glue around it need.</summary>
internal sealed class TokenizerDefinition
{
    /// <summary>The file the model came from, for error messages.</summary>
    public required string Source { get; init; }

    public required IReadOnlyList<KeyValuePair<string, int>> Vocab { get; init; }

    /// <summary>Merges as "left right" strings, highest priority first (the library's format).</summary>
    public required IReadOnlyList<string> Merges { get; init; }

    public string? UnkToken { get; init; }

    /// <summary>Unknown characters become &lt;0xNN&gt; tokens of their UTF-8 bytes instead of the unknown token.</summary>
    public bool ByteFallback { get; init; }

    public bool FuseUnk { get; init; }

    public string? ContinuingSubwordPrefix { get; init; }

    public string? EndOfWordSuffix { get; init; }

    /// <summary>The model works on GPT-2 byte-alphabet characters (ByteLevel pre-tokenizer).</summary>
    public bool ByteLevel { get; init; }

    public Normalizer? Normalizer { get; init; }

    public required PreTokenizer PreTokenizer { get; init; }

    public PieceRewriter? PieceRewriter { get; init; }

    public required TokenDecoder Decoder { get; init; }

    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = [];

    /// <summary>Ids the post-processor puts before a single sequence; null when there is no post-processor to say.</summary>
    public IReadOnlyList<int>? TemplatePrefix { get; init; }

    /// <summary>Ids the post-processor puts after a single sequence.</summary>
    public IReadOnlyList<int>? TemplateSuffix { get; init; }
}
