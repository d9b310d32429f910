using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Tests;

/// <summary>
/// A toy LM whose session counts computed tokens the way the ONNX session does: each token is run once, forks copy
/// the cache, truncation keeps the cache below the cut and re-runs the token before it, rows with nothing pending cost
/// nothing. FunctionDecoderSession charges every row on every call, so it cannot show whether a strategy reuses the cache.
/// </summary>
internal sealed class KvAccountingLm(DecoderInfo info, Func<IReadOnlyList<int>, float[]> logits) : ICausalLm
{
    public DecoderInfo Info => info;

    public IDecoderSession CreateSession() => new Session(info, logits);

    public void Dispose() { }

    private sealed class Row
    {
        public List<int> Tokens = [];
        public int Cached;
        public bool OutputValid;

        public Row Clone() => new() { Tokens = [.. Tokens], Cached = Cached, OutputValid = OutputValid };
    }

    private sealed class Session(DecoderInfo info, Func<IReadOnlyList<int>, float[]> logits) : IDecoderSession
    {
        private List<Row> _rows = [];

        public DecoderInfo Info => info;

        public int RowCount => _rows.Count;

        public SessionTelemetry Telemetry { get; } = new();

        public ReadOnlySpan<int> GetTokens(int row) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows[row].Tokens);

        public int AddRow(ReadOnlySpan<int> tokens)
        {
            _rows.Add(new Row { Tokens = [.. tokens] });
            return _rows.Count - 1;
        }

        public void Append(int row, ReadOnlySpan<int> tokens)
        {
            if (_rows[row].Tokens.Count + tokens.Length > info.ContextLength) throw new ContextLengthExceededException(_rows[row].Tokens.Count + tokens.Length, info.ContextLength);
            _rows[row].Tokens.AddRange(tokens);
        }

        public void AppendToAll(ReadOnlySpan<int> tokenPerRow)
        {
            for (var i = 0; i < tokenPerRow.Length; i++) Append(i, tokenPerRow.Slice(i, 1));
        }

        public RowOutputs Forward(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pending = 0;
            for (var r = 0; r < _rows.Count; r++)
            {
                var p = _rows[r].Tokens.Count - _rows[r].Cached;
                if (p == 0 && !_rows[r].OutputValid) throw new InvalidOperationException($"Row {r} has no output and nothing pending.");
                pending += p;
            }
            if (pending > 0) Telemetry.Record(new StepTelemetry(_rows.Count, 1, pending, TimeSpan.Zero, TimeSpan.Zero));
            var values = new float[_rows.Count * info.OutputWidth];
            for (var r = 0; r < _rows.Count; r++)
            {
                logits(_rows[r].Tokens).CopyTo(values, r * info.OutputWidth);
                _rows[r].Cached = _rows[r].Tokens.Count;
                _rows[r].OutputValid = true;
            }
            return new RowOutputs(values, _rows.Count, info.OutputWidth);
        }

        public RowOutputs ForwardCandidates(ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public void Select(ReadOnlySpan<int> sourceRows)
        {
            var rows = new List<Row>();
            foreach (var s in sourceRows) rows.Add(_rows[s].Clone());
            _rows = rows;
        }

        // Same rule as the ONNX session: the output at the new last token was never kept, so that token runs again.
        public void Truncate(int row, int length)
        {
            var r = _rows[row];
            if (length == r.Tokens.Count) return;
            r.Tokens.RemoveRange(length, r.Tokens.Count - length);
            if (length >= r.Cached)
            {
                r.OutputValid = length == r.Cached && r.OutputValid;
                return;
            }
            r.Cached = Math.Max(length - 1, 0);
            r.OutputValid = false;
        }

        public void Dispose() { }
    }
}
