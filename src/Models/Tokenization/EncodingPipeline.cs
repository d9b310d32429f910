using System.Text;
using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// The glue around the library's BPE that HF performs and Microsoft.ML.Tokenizers 2.0.1 does not: added tokens are
/// cut out first (non-normalized ones from the raw text, normalized ones after normalization, as HF's
/// AddedVocabulary does), each remaining piece is normalized and rewritten (Metaspace, ByteLevel prefix space),
/// the library encodes it, and, when the model has byte_fallback, characters that are not vocabulary pieces are
/// spelled as &lt;0xNN&gt; tokens of their UTF-8 bytes.
/// </summary>
internal sealed class EncodingPipeline
{
    private readonly BpeTokenizer _bpe;
    private readonly TokenizerDefinition _definition;
    private readonly AddedTokenSplitter _rawSplitter;
    private readonly AddedTokenSplitter _normalizedSplitter;
    private readonly int? _unkId;
    private readonly int[]? _byteIds;
    private readonly bool[] _knownChars = [];
    private readonly HashSet<int> _knownAstral = [];

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
            _knownChars = new bool[char.MaxValue + 1];
            foreach (var (token, _) in definition.Vocab)
            {
                if (token.Length == 1) _knownChars[token[0]] = true;
                else if (token.Length == 2 && char.IsSurrogatePair(token[0], token[1])) _knownAstral.Add(char.ConvertToUtf32(token[0], token[1]));
            }
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

        // HF turns a character that is not a vocabulary piece into byte tokens before merging; such symbols never
        // merge, so cutting the text around them and letting the library encode the rest gives the same ids.
        int segmentStart = 0;
        for (int i = 0; i < piece.Length;)
        {
            int length = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1;
            bool known = length == 1 ? _knownChars[piece[i]] : _knownAstral.Contains(char.ConvertToUtf32(piece[i], piece[i + 1]));
            if (!known)
            {
                if (i > segmentStart) ids.AddRange(_bpe.EncodeToIds(piece.Substring(segmentStart, i - segmentStart), considerPreTokenization: true, considerNormalization: false));
                AddBytes(piece.AsSpan(i, length), ids);
                segmentStart = i + length;
            }
            i += length;
        }
        if (segmentStart < piece.Length)
            ids.AddRange(_bpe.EncodeToIds(segmentStart == 0 ? piece : piece[segmentStart..], considerPreTokenization: true, considerNormalization: false));
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
