namespace DecodeAlign.Models.Rewards;

/// <summary>Reads V(s, a) for the candidate tokens of many rows from a value or scorer session in one batched call.</summary>
public static class CandidateValues
{
    /// <summary>
    /// Fills <paramref name="values"/>[i·k + j] with V(row i's tokens, <paramref name="candidates"/>[i·k + j]) for
    /// the session rows <paramref name="rows"/>: from the vocabulary-wide head at each row's last token (one step,
    /// whatever k is), or, for a scalar head, by scoring each row extended by each candidate (one batched call that
    /// reuses the rows' cache).
    /// </summary>
    public static void Read(IDecoderSession session, ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, Span<float> values, CancellationToken cancellationToken = default)
    {
        if (rows.Length == 0) return;
        if (candidates.Length % rows.Length != 0 || values.Length != candidates.Length)
            throw new ArgumentException($"Expected k candidates and k value slots per row for {rows.Length} rows; got {candidates.Length} candidates and {values.Length} slots.");
        var k = candidates.Length / rows.Length;
        if (session.Info.Output == DecoderOutputKind.Values)
        {
            var all = session.Forward(cancellationToken);
            for (var i = 0; i < rows.Length; i++)
            {
                var row = all.Row(rows[i]);
                for (var j = 0; j < k; j++) values[i * k + j] = row[candidates[i * k + j]];
            }
            return;
        }
        if (session.Info.Output != DecoderOutputKind.Scores)
            throw new ModelException($"{session.Info.Source}: a language model ('logits' head) cannot serve as a value model.");
        var scored = session.ForwardCandidates(rows, candidates, cancellationToken);
        for (var i = 0; i < candidates.Length; i++) values[i] = scored.Row(i)[0];
    }
}
