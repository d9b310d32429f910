using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// The SentencePiece-style decoder chains of tokenizer.json: per-token rewrites (Replace "▁"→" ", Metaspace), then
/// ByteFallback (runs of &lt;0xNN&gt; tokens become the UTF-8 text they spell, or one U+FFFD per byte when the run
/// is not valid UTF-8, exactly as HF does), then Fuse and Strip. With Fuse before Strip the strip applies once to the
/// whole text, so only the very first characters and the very last ones can be cut; streaming holds back a byte run
/// until it ends and trailing strippable characters until something follows them.
/// A tokenizer.json without a decoder joins tokens with single spaces, which <paramref name="joinWithSpace"/> mimics.
/// </summary>
internal sealed class PieceTokenDecoder(
    IReadOnlyList<Func<string, int, string>> rewrites,
    bool byteFallback,
    StripSpec? strip,
    bool stripOnce,
    bool joinWithSpace = false) : TokenDecoder
{
    private IReadOnlyList<Func<string, int, string>> Rewrites { get; } = rewrites;
    private bool ByteFallback { get; } = byteFallback;
    private StripSpec? Strip { get; } = strip;
    private bool StripOnce { get; } = stripOnce;
    private bool JoinWithSpace { get; } = joinWithSpace;

    public override DecodeState Start() => new State(this);

    /// <summary>Recognises HF's byte-fallback spelling "&lt;0xNN&gt;".</summary>
    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private sealed class State(PieceTokenDecoder spec) : DecodeState
    {
        private readonly List<byte> _run = [];
        private readonly StringBuilder _heldTail = new();
        private int _index;
        private int _pieces;
        private int _startLeft = spec.Strip?.Start ?? 0;

        public override void Push(string token, StringBuilder output)
        {
            foreach (var rewrite in spec.Rewrites) token = rewrite(token, _index);
            _index++;
            if (spec.ByteFallback && TryParseByteToken(token, out byte b))
            {
                _run.Add(b);
                return;
            }
            EmitRun(output);
            Emit(token, output);
        }

        public override void Flush(StringBuilder output)
        {
            EmitRun(output);
            // Whatever strippable tail is still held is exactly what HF's Strip cuts from the end.
            _heldTail.Clear();
        }

        private void EmitRun(StringBuilder output)
        {
            if (_run.Count == 0) return;
            var bytes = _run.ToArray();
            _run.Clear();
            if (Utf8.IsValid(bytes)) Emit(Encoding.UTF8.GetString(bytes), output);
            else for (int i = 0; i < bytes.Length; i++) Emit("\uFFFD", output);
        }

        private void Emit(string piece, StringBuilder output)
        {
            if (spec.JoinWithSpace && _pieces > 0) piece = " " + piece;
            _pieces++;
            if (spec.Strip is not { } s) { output.Append(piece); return; }
            if (!spec.StripOnce) { output.Append(StripPiece(piece, s.Content, s.Start, s.Stop)); return; }

            if (_startLeft > 0)
            {
                int cut = 0;
                while (cut < piece.Length && cut < _startLeft && piece[cut] == s.Content) cut++;
                piece = piece[cut..];
                _startLeft = piece.Length > 0 ? 0 : _startLeft - cut;
            }
            if (s.Stop == 0) { output.Append(piece); return; }

            _heldTail.Append(piece);
            int tail = 0;
            while (tail < s.Stop && tail < _heldTail.Length && _heldTail[_heldTail.Length - 1 - tail] == s.Content) tail++;
            output.Append(_heldTail.ToString(0, _heldTail.Length - tail));
            _heldTail.Remove(0, _heldTail.Length - tail);
        }

        private static string StripPiece(string piece, char content, int start, int stop)
        {
            int from = 0;
            while (from < piece.Length && from < start && piece[from] == content) from++;
            int to = piece.Length, cut = 0;
            while (to > from && cut < stop && piece[to - 1] == content) { to--; cut++; }
            return piece[from..to];
        }
    }
}

/// <summary>HF's Strip decoder: removes up to <paramref name="Start"/> leading and <paramref name="Stop"/> trailing <paramref name="Content"/> characters.</summary>
internal sealed record StripSpec(char Content, int Start, int Stop);
