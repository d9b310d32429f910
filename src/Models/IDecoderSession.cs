namespace DecodeAlign.Models;

/// <summary>
/// A batch of token sequences ("rows") over one KV-cached decoder (LM, prefix reward model or value model), with a KV cache that can be forked, reordered
/// and trimmed. Each row holds its tokens; tokens not yet run through the model are pending, and
/// <see cref="Forward"/> runs the pending tokens of all rows in one batched model call.
/// Not thread-safe: one session per caller.
/// </summary>
public interface IDecoderSession : IDisposable
{
    /// <summary>The model this session runs.</summary>
    DecoderInfo Info { get; }

    /// <summary>Number of rows in the batch.</summary>
    int RowCount { get; }

    /// <summary>All tokens of a row (run and pending).</summary>
    ReadOnlySpan<int> GetTokens(int row);

    /// <summary>Adds a row holding <paramref name="tokens"/> (pending) and returns its index.</summary>
    int AddRow(ReadOnlySpan<int> tokens);

    /// <summary>Queues tokens at the end of one row; they are run by the next <see cref="Forward"/>.</summary>
    void Append(int row, ReadOnlySpan<int> tokens);

    /// <summary>Queues one token at the end of every row (<paramref name="tokenPerRow"/> has <see cref="RowCount"/> entries).</summary>
    void AppendToAll(ReadOnlySpan<int> tokenPerRow);

    /// <summary>
    /// Runs every row's pending tokens in one batched call (rows of different lengths are padded and masked) and
    /// returns each row's output at its last token [RowCount × OutputWidth] (next-token logits, a score or values). Rows with nothing
    /// pending return their previous output without recomputation. The view is valid until the next call
    /// that changes the session.
    /// </summary>
    RowOutputs Forward(CancellationToken cancellationToken = default);

    /// <summary>
    /// Outputs after appending each of k candidate tokens to each listed row, in one batched call that reuses the
    /// rows' cache and leaves the session unchanged: result row i·k+j is <paramref name="rows"/>[i] extended by
    /// <paramref name="candidates"/>[i·k+j]. Pending tokens of the listed rows are run first.
    /// </summary>
    RowOutputs ForwardCandidates(ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, CancellationToken cancellationToken = default);

    /// <summary>
    /// Rebuilds the batch from existing rows: new row i is a copy of old row <paramref name="sourceRows"/>[i].
    /// Forks (repeat an index), reorders, resamples and drops rows; cache and outputs move with them.
    /// </summary>
    void Select(ReadOnlySpan<int> sourceRows);

    /// <summary>Cuts a row back to its first <paramref name="length"/> tokens, discarding the cache beyond them.</summary>
    void Truncate(int row, int length);

    /// <summary>
    /// Cuts a row back to its first <paramref name="length"/> tokens like <see cref="Truncate"/>, with the caller
    /// supplying the row's output at its new last token (kept from an earlier <see cref="Forward"/>), so nothing is re-run:
    /// how a speculative step that guessed wrong is undone. The default re-runs that token.
    /// </summary>
    void Rewind(int row, int length, ReadOnlySpan<float> outputAtLength) => Truncate(row, length);

    /// <summary>Running totals: tokens computed, model calls and time.</summary>
    SessionTelemetry Telemetry { get; }
}
