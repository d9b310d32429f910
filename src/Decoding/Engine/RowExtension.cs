using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Engine;

/// <summary>What <see cref="RowExtender.Extend"/> generated for one row.</summary>
/// <param name="Tokens">The tokens appended to the row (an end-of-sequence token excluded).</param>
/// <param name="EndedWithEos">True when the row stopped on an end-of-sequence token rather than its budget.</param>
public sealed record RowExtension(int[] Tokens, bool EndedWithEos);

/// <summary>
/// The engine's short-rollout primitive: extends chosen rows of a session by up to a per-row budget of tokens, all rows
/// in one batched model call per token, stopping a row at an end-of-sequence token. What DeAL's lookaheads and
/// Transfer Q*'s baseline rollouts run on. The generated tokens stay in the session (an end-of-sequence token is not
/// appended): callers cut the rows back with <see cref="IDecoderSession.Truncate"/> or drop them with
/// <see cref="IDecoderSession.Select"/>, so the prefix cache the rows share is never recomputed.
/// </summary>
public static class RowExtender
{
    /// <summary>
    /// Extends session row <paramref name="rows"/>[i] by up to <paramref name="budgets"/>[i] tokens drawn with
    /// <paramref name="sampling"/> (temperature 0 is greedy) and key <paramref name="keys"/>[i], whose step advances by
    /// one per token. Rows not listed are left alone; pending tokens of listed rows are run first.
    /// </summary>
    public static RowExtension[] Extend(IDecoderSession session, ITokenKernels kernels, ReadOnlySpan<int> rows, ReadOnlySpan<int> budgets,
        SamplingParameters sampling, ReadOnlySpan<SampleKey> keys, IReadOnlySet<int> eos, CancellationToken cancellationToken = default)
    {
        if (budgets.Length != rows.Length || keys.Length != rows.Length)
            throw new ArgumentException($"Expected one budget and one key per row ({rows.Length}); got {budgets.Length} and {keys.Length}.");
        var n = rows.Length;
        var tokens = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        var ended = new bool[n];
        var budget = budgets.ToArray();
        var rowIds = rows.ToArray();
        var baseKeys = keys.ToArray();
        var vocab = session.Info.VocabSize;
        var live = Enumerable.Range(0, n).Where(i => budget[i] > 0).ToList();
        while (live.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var all = session.Forward(cancellationToken);
            var logits = new float[live.Count * vocab];
            var stepKeys = new SampleKey[live.Count];
            for (var j = 0; j < live.Count; j++)
            {
                var i = live[j];
                all.Row(rowIds[i])[..vocab].CopyTo(logits.AsSpan(j * vocab, vocab));
                stepKeys[j] = baseKeys[i] with { Step = baseKeys[i].Step + tokens[i].Count };
            }
            var next = new int[live.Count];
            kernels.Sample(logits, vocab, sampling, stepKeys, next);
            var still = new List<int>(live.Count);
            for (var j = 0; j < live.Count; j++)
            {
                var i = live[j];
                if (eos.Contains(next[j])) { ended[i] = true; continue; }
                tokens[i].Add(next[j]);
                session.Append(rowIds[i], [next[j]]);
                if (tokens[i].Count < budget[i]) still.Add(i);
            }
            live = still;
        }
        return Enumerable.Range(0, n).Select(i => new RowExtension([.. tokens[i]], ended[i])).ToArray();
    }
}
