using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Generation;

/// <summary>
/// The sampling loop every strategy shares: one batched LM call per step for all unfinished rows, one kernel call
/// that draws every row's next token (keyed by the row's stable id and its step, so a row's tokens do not depend on
/// the batch it runs in), stop on EOS, stop strings, max new tokens or the context length.
/// </summary>
internal sealed class SequenceGenerator(LanguageModel model, ITokenKernels kernels, GenerationOptions options)
{
    /// <summary>Wall time of the first LM call of the last <see cref="Generate"/> (the prompt prefill).</summary>
    public TimeSpan PrefillTime { get; private set; }

    /// <summary>Called with (row, text) as text becomes final, for streaming.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>
    /// Called after every step with the number of tokens each unfinished row has generated (rows start together, so
    /// they share it) and the result index of each session row; returns the session rows to keep (ascending), or null
    /// to keep all. Rows left out end as <see cref="FinishReason.Pruned"/> (best-of-N's early pruning).
    /// </summary>
    public Func<int, IReadOnlyList<int>, int[]?>? AfterStep { get; init; }

    /// <summary>
    /// Generates a response for every row of <paramref name="session"/> (each row's tokens so far are its prompt).
    /// Row r draws with <paramref name="keys"/>[r] = (stable row id, step of its first new token). Finished rows are
    /// dropped from the session, which therefore ends empty or holding the unfinished rows after a cancellation.
    /// <para>
    /// With <paramref name="rows"/>, only those session rows are generated (result i is row rows[i]); the others are
    /// left alone and no row is dropped, so finished rows keep their cache (QAlign keeps chain states and proposals
    /// side by side). With <paramref name="responseStarts"/>, result i's response starts at token responseStarts[i]
    /// of its row: the tokens after it are an already generated response prefix, which begins the result's tokens and
    /// counts towards max new tokens, stop strings, penalties and the key's step (a prefix that already ends the
    /// response finishes without a model call). Either way, a finished row's last token is not appended to it.
    /// </para>
    /// </summary>
    public GeneratedSequence[] Generate(IDecoderSession session, ReadOnlySpan<SampleKey> keys, CancellationToken ct,
        IReadOnlyList<int>? rows = null, IReadOnlyList<int>? responseStarts = null)
    {
        var keepRows = rows is not null;
        var sessionRows = rows?.ToArray() ?? Enumerable.Range(0, session.RowCount).ToArray(); // result index -> session row, when kept
        var count = sessionRows.Length;
        if (keys.Length != count) throw new ArgumentException($"Expected one key per generated row ({count}), got {keys.Length}.", nameof(keys));
        if (responseStarts is not null && responseStarts.Count != count)
            throw new ArgumentException($"Expected one response start per generated row ({count}), got {responseStarts.Count}.", nameof(responseStarts));
        var responses = new ResponseTracker[count];
        var baseKeys = keys.ToArray();
        IReadOnlySet<int> noEos = new HashSet<int>();
        for (var r = 0; r < count; r++)
        {
            var tokens = session.GetTokens(sessionRows[r]);
            var start = responseStarts?[r] ?? tokens.Length;
            if ((uint)start > (uint)tokens.Length) throw new ArgumentOutOfRangeException(nameof(responseStarts), $"Response start {start} is outside row {sessionRows[r]} ({tokens.Length} tokens).");
            var row = r;
            responses[r] = new ResponseTracker(model, tokens[..start], options, model.Lm.Info.ContextLength, $"row {sessionRows[r]}",
                OnText is null ? null : text => OnText(row, text));
            // A response prefix is replayed through the same stopping rules, so it ends exactly where sampling it would have.
            foreach (var token in tokens[start..])
            {
                if (responses[r].Done) throw new ArgumentException($"Row {sessionRows[r]} continues past the end of its response prefix.", nameof(responseStarts));
                responses[r].Add(token, noEos);
            }
        }
        var results = responses.Select(t => t.Result).ToArray();

        var live = Enumerable.Range(0, count).Where(r => !responses[r].Done).ToList(); // live[i] = result index of unfinished row i (session row i when rows are dropped)
        if (!keepRows && live.Count < count) session.Select(live.ToArray());
        var eos = options.IgnoreEos ? [] : model.EosTokenIds.ToHashSet();
        var vocab = model.Lm.Info.VocabSize;
        var sampling = options.Sampling;
        var usePenalties = sampling.HasPenalties && sampling.Temperature > 0;
        while (live.Count > 0)
        {
            RowOutputs logits;
            try
            {
                ct.ThrowIfCancellationRequested();
                var first = session.Telemetry.ModelCalls;
                logits = session.Forward(ct);
                if (results.All(g => g.Tokens.Count == 0) && session.Telemetry.ModelCalls > first) PrefillTime = session.Telemetry.LastStep.WallTime;
            }
            catch (OperationCanceledException)
            {
                foreach (var i in live) responses[i].Finish(FinishReason.Cancelled);
                break;
            }
            var sampleKeys = new SampleKey[live.Count];
            for (var i = 0; i < live.Count; i++)
                sampleKeys[i] = baseKeys[live[i]] with { Step = baseKeys[live[i]].Step + results[live[i]].Tokens.Count };
            var next = new int[live.Count];
            var rowLogits = keepRows ? GatherLive(logits) : logits.Values.Span;
            if (usePenalties)
            {
                var offsets = new int[live.Count + 1];
                for (var i = 0; i < live.Count; i++) offsets[i + 1] = offsets[i] + results[live[i]].Tokens.Count;
                var history = live.SelectMany(i => results[i].Tokens).ToArray();
                kernels.Sample(rowLogits, vocab, sampling, sampleKeys, next, history, offsets);
            }
            else
            {
                kernels.Sample(rowLogits, vocab, sampling, sampleKeys, next);
            }

            var keep = new List<int>(live.Count);
            for (var i = 0; i < live.Count; i++)
            {
                var r = live[i];
                var token = next[i];
                if (responses[r].Add(token, eos)) continue;
                session.Append(keepRows ? sessionRows[r] : i, [token]);
                keep.Add(i);
            }
            if (keepRows)
            {
                live = keep.Select(i => live[i]).ToList();
            }
            else if (keep.Count < live.Count)
            {
                session.Select(keep.ToArray());
                live = keep.Select(i => live[i]).ToList();
            }
            if (AfterStep is not null && live.Count > 0 && AfterStep(results[live[0]].Tokens.Count, live) is { } kept)
            {
                var keptSet = kept.ToHashSet();
                for (var i = 0; i < live.Count; i++)
                {
                    if (!keptSet.Contains(i)) responses[live[i]].Prune();
                }
                session.Select(kept);
                live = kept.Select(i => live[i]).ToList();
            }
        }
        return results;

        ReadOnlySpan<float> GatherLive(RowOutputs all)
        {
            var gathered = new float[live.Count * vocab];
            for (var i = 0; i < live.Count; i++) all.Row(sessionRows[live[i]]).CopyTo(gathered.AsSpan(i * vocab, vocab));
            return gathered;
        }
    }
}
