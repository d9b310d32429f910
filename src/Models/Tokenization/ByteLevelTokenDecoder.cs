using System.Runtime.InteropServices;
using System.Text;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// HF's ByteLevel decoder: token characters map back to bytes through the GPT-2 alphabet (a token with a character
/// outside it, such as an added "   " token, contributes its own UTF-8), and the byte stream is read as UTF-8 with
/// U+FFFD for invalid parts. A stateful UTF-8 decoder holds back incomplete characters between tokens; .NET and
/// Rust's from_utf8_lossy both replace maximal invalid subparts, so chunked output equals whole-string output.
/// </summary>
internal sealed class ByteLevelTokenDecoder : TokenDecoder
{
    public override DecodeState Start() => new State();

    private sealed class State : DecodeState
    {
        private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        private readonly List<byte> _bytes = [];
        private char[] _chars = new char[32];

        public override void Push(string token, StringBuilder output)
        {
            _bytes.Clear();
            if (!ByteLevelAlphabet.TryGetBytes(token, _bytes)) _bytes.AddRange(Encoding.UTF8.GetBytes(token));
            Convert(CollectionsMarshal.AsSpan(_bytes), flush: false, output);
        }

        public override void Flush(StringBuilder output) => Convert([], flush: true, output);

        private void Convert(ReadOnlySpan<byte> bytes, bool flush, StringBuilder output)
        {
            int needed = _utf8.GetCharCount(bytes, flush);
            if (needed > _chars.Length) _chars = new char[Math.Max(needed, _chars.Length * 2)];
            int written = _utf8.GetChars(bytes, _chars, flush);
            output.Append(_chars, 0, written);
        }
    }
}
