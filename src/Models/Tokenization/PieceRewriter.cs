namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// The text-changing half of an HF pre-tokenizer (ByteLevel's add_prefix_space, Metaspace's space replacement and
/// prefix), applied to each piece of text between added tokens before the library splits and encodes it.
/// The library's pre-tokenizers can only split, and Metaspace's "first" scheme depends on where the piece sits.
/// </summary>
/// <param name="piece">A non-empty piece of normalized text.</param>
/// <param name="atTextStart">True when the piece begins at offset 0 of the original text.</param>
internal delegate string PieceRewriter(string piece, bool atTextStart);

/// <summary>Builds the <see cref="PieceRewriter"/>s for the supported pre-tokenizers.</summary>
internal static class PieceRewriters
{
    /// <summary>ByteLevel with add_prefix_space: a leading space unless the piece has one.</summary>
    public static PieceRewriter AddPrefixSpace() => (piece, _) => piece.StartsWith(' ') ? piece : " " + piece;

    /// <summary>
    /// Metaspace: spaces become <paramref name="replacement"/>, then the replacement is prepended unless already
    /// there ("always"), only for the piece at the start of the text ("first"), or never.
    /// </summary>
    public static PieceRewriter Metaspace(string replacement, MetaspacePrepend prepend) => (piece, atTextStart) =>
    {
        piece = piece.Replace(" ", replacement, StringComparison.Ordinal);
        bool add = prepend == MetaspacePrepend.Always || (prepend == MetaspacePrepend.First && atTextStart);
        return add && !piece.StartsWith(replacement, StringComparison.Ordinal) ? replacement + piece : piece;
    };
}

/// <summary>Metaspace's prepend_scheme.</summary>
internal enum MetaspacePrepend { Always, First, Never }
