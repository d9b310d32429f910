using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Tests.Toy;

/// <summary>
/// An in-memory decoder session whose output for a row is an explicit function of the row's tokens, so a strategy's
/// exact target distribution can be computed by enumeration. Counts tokens and calls like the ONNX session.
/// </summary>
internal sealed class FunctionDecoderSession(DecoderInfo info, Func<IReadOnlyList<int>, float[]> output) : IDecoderSession
{
    private List<List<int>> _rows = [];

    public DecoderInfo Info => info;

    public int RowCount => _rows.Count;

    public SessionTelemetry Telemetry { get; } = new();

    public ReadOnlySpan<int> GetTokens(int row) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows[row]);

    public int AddRow(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length > info.ContextLength) throw new ContextLengthExceededException(tokens.Length, info.ContextLength);
        _rows.Add([.. tokens]);
        return _rows.Count - 1;
    }

    public void Append(int row, ReadOnlySpan<int> tokens)
    {
        if (_rows[row].Count + tokens.Length > info.ContextLength) throw new ContextLengthExceededException(_rows[row].Count + tokens.Length, info.ContextLength);
        _rows[row].AddRange(tokens);
    }

    public void AppendToAll(ReadOnlySpan<int> tokenPerRow)
    {
        for (var i = 0; i < tokenPerRow.Length; i++) Append(i, tokenPerRow.Slice(i, 1));
    }

    public RowOutputs Forward(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Telemetry.Record(new StepTelemetry(_rows.Count, 1, _rows.Count, TimeSpan.Zero, TimeSpan.Zero));
        var values = new float[_rows.Count * info.OutputWidth];
        for (var r = 0; r < _rows.Count; r++) output(_rows[r]).CopyTo(values, r * info.OutputWidth);
        return new RowOutputs(values, _rows.Count, info.OutputWidth);
    }

    public RowOutputs ForwardCandidates(ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Telemetry.Record(new StepTelemetry(candidates.Length, 1, candidates.Length, TimeSpan.Zero, TimeSpan.Zero));
        var k = candidates.Length / rows.Length;
        var values = new float[candidates.Length * info.OutputWidth];
        for (var i = 0; i < candidates.Length; i++)
            output([.. _rows[rows[i / k]], candidates[i]]).CopyTo(values, i * info.OutputWidth);
        return new RowOutputs(values, candidates.Length, info.OutputWidth);
    }

    public void Select(ReadOnlySpan<int> sourceRows)
    {
        var rows = new List<List<int>>();
        foreach (var s in sourceRows) rows.Add([.. _rows[s]]);
        _rows = rows;
    }

    public void Truncate(int row, int length) => _rows[row].RemoveRange(length, _rows[row].Count - length);

    public void Dispose() { }
}
