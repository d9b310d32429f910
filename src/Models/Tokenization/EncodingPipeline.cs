using System.Text;
using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// The glue around the library's BPE that HF performs and Microsoft.ML.Tokenizers 2.0.1 does not: added tokens are
/// cut out first (non-normalized ones from the raw text, normalized ones after normalization, as HF's
/// AddedVocabulary does), each remaining piece is normalized and rewritten (Metaspace, ByteLevel prefix space),
/// the library encodes it, and characters it could only map to the unknown token are replaced by their UTF-8 bytes
/// as &lt;0xNN&gt; tokens when the model has byte_fallback.
/// </summary>
internal sealed class EncodingPipeline
{
    private readonly BpeTokenizer _bpe;
    private readonly TokenizerDefinition _definition;
    private readonly AddedTokenSplitter _rawSplitter;
    private readonly AddedTokenSplitter _normalizedSplitter;
    private readonly int? _unkId;
    private readonly int[]? _byteIds;

    public EncodingPipeline(BpeTokenizer bpe, TokenizerDefinition definition, IReadOnlyList<AddedToken> addedTokens, Func<string, int?> tokenToId)
    {
        _bpe = bpe;
        _definition = definition;
        _rawSplitter = new AddedTokenSplitter(addedTokens.Where(t => !t.Normalized));
        _normalizedSplitter = new AddedTokenSplitter(addedTokens.Where(t => t.Normalized));
        _unkId = definition.UnkToken is { } unk ? tokenToId(unk) : null;
        if (definition.ByteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++) _byteIds[b] = tokenToId($"<0x{b:X2}>") ?? -1;
        }
    }

    public void Encode(string text, List<int> ids)
    {
        foreach (var (start, length, token) in _rawSplitter.Split(text))
        {
            if (token is not null) { ids.Add(token.Id); continue; }
            string piece = text.Substring(start, length);
            string normalized = _definition.Normalizer?.Normalize(piece) ?? piece;
            foreach (var (subStart, subLength, subToken) in _normalizedSplitter.Split(normalized))
            {
                if (subToken is not null) { ids.Add(subToken.Id); continue; }
                EncodeModelPiece(normalized.Substring(subStart, subLength), atTextStart: start == 0 && subStart == 0, ids);
            }
        }
    }

    private void EncodeModelPiece(string piece, bool atTextStart, List<int> ids)
    {
        if (piece.Length == 0) return;
        if (_definition.PieceRewriter is { } rewrite) piece = rewrite(piece, atTextStart);
        if (_byteIds is null)
        {
            ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: true, considerNormalization: false));
            return;
        }

        // The library emits the unknown token (fused over a run) where HF would fall back to bytes; spans the model
        // skipped entirely are treated the same way.
        var tokens = _bpe.EncodeToTokens(piece, out _, considerPreTokenization: true, considerNormalization: false);
        int cursor = 0, fallbackStart = -1, fallbackEnd = -1;
        foreach (var token in tokens)
        {
            var (offset, length) = token.Offset.GetOffsetAndLength(piece.Length);
            if (offset > cursor) Extend(cursor, offset);
            if (token.Id == _unkId) Extend(offset, offset + length);
            else
            {
                FlushFallback();
                ids.Add(token.Id);
            }
            cursor = Math.Max(cursor, offset + length);
        }
        if (cursor < piece.Length) Extend(cursor, piece.Length);
        FlushFallback();

        void Extend(int from, int to)
        {
            if (fallbackStart < 0) fallbackStart = from;
            fallbackEnd = Math.Max(fallbackEnd, to);
        }

        void FlushFallback()
        {
            if (fallbackStart < 0) return;
            AddBytes(piece.AsSpan(fallbackStart, fallbackEnd - fallbackStart), ids);
            fallbackStart = fallbackEnd = -1;
        }
    }

    /// <summary>HF falls back per character: its bytes when every byte token exists, otherwise the unknown token.</summary>
    private void AddBytes(ReadOnlySpan<char> text, List<int> ids)
    {
        Span<byte> buffer = stackalloc byte[4];
        for (int i = 0; i < text.Length;)
        {
            int charLength = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            int byteCount = Encoding.UTF8.GetBytes(text.Slice(i, charLength), buffer);
            bool allPresent = true;
            for (int b = 0; b < byteCount; b++) allPresent &= _byteIds![buffer[b]] >= 0;
            if (allPresent) for (int b = 0; b < byteCount; b++) ids.Add(_byteIds![buffer[b]]);
            else if (_unkId is int unk) ids.Add(unk);
            i += charLength;
        }
    }
}
