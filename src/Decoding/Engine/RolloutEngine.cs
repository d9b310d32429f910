using System.Numerics.Tensors;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Engine;

/// <summary>
/// The one generation loop under every strategy: one batched LM call per step for all unfinished rows, the next tokens
/// from the sampler (<see cref="TokenSampler"/>, keyed by each row's stable id and step so a row's tokens do not depend
/// on the batch it runs in) or from a strategy's <see cref="TokenChooser"/>, the shared stop rules
/// (<see cref="ResponseTracker"/>: EOS, stop strings, max new tokens, context), streaming, cancellation within one step,
/// and guide sessions (prefix scorers, value models, baseline policies) kept in lockstep with the LM: row i of every
/// guide is row i of the LM, chosen tokens are appended to all of them and finished rows dropped from all of them in
/// the same step, so each guide's KV cache advances by exactly the tokens the LM advances by.
/// </summary>
public sealed class RolloutEngine(LanguageModel model, ITokenKernels kernels, GenerationOptions options)
{
    /// <summary>Wall time of the first LM call of the last <see cref="Generate(IDecoderSession, ReadOnlySpan{SampleKey}, CancellationToken, IReadOnlyList{int}?, IReadOnlyList{int}?)"/> (the prompt prefill).</summary>
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
    /// Speculative LM steps (chooser loops only): while the chooser runs its guide calls, the LM already runs the next
    /// step on each row's highest-logit token on another thread; rows whose chosen token differs are rewound
    /// (<see cref="IDecoderSession.Rewind"/>) and re-run with the chosen one. Outputs do not depend on the machine: the
    /// guesses and the rewinds are the same whatever the core count, only the overlap differs. Pays off when the choice
    /// usually is the LM's top token (ARGS).
    /// </summary>
    public bool Speculate { get; init; }

    /// <summary>Speculative LM steps whose guess was the chosen token, of all speculative row-steps (last Generate).</summary>
    public (int Hits, int Guesses) Speculation { get; private set; }

    /// <summary>
    /// Samples a response for every row of <paramref name="session"/> (each row's tokens so far are its prompt). Row r
    /// draws with <paramref name="keys"/>[r] = (stable row id, step of its first new token). Finished rows are dropped
    /// from the session, which therefore ends empty or holding the unfinished rows after a cancellation.
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
        IReadOnlyList<int>? rows = null, IReadOnlyList<int>? responseStarts = null) =>
        Run(session, [], keys, null, null, rows, responseStarts, ct);

    /// <summary>
    /// Generates a response for every row of <paramref name="lm"/> with the next tokens picked by
    /// <paramref name="choose"/>; every guide session holds the same rows. Row r's keys are as in the sampling overload.
    /// <paramref name="lastScores"/>[r] is the chooser's score of the row's last kept token (the guide's score of the
    /// whole response), or null when the response is empty or the chooser gives no score (NaN).
    /// </summary>
    public GeneratedSequence[] Generate(IDecoderSession lm, IReadOnlyList<IDecoderSession> guides, ReadOnlySpan<SampleKey> keys,
        TokenChooser choose, out float?[] lastScores, CancellationToken ct)
    {
        lastScores = new float?[lm.RowCount];
        return Run(lm, guides, keys, choose, lastScores, null, null, ct);
    }

    private GeneratedSequence[] Run(IDecoderSession lm, IReadOnlyList<IDecoderSession> guides, ReadOnlySpan<SampleKey> keys, TokenChooser? choose,
        float?[]? scores, IReadOnlyList<int>? rows, IReadOnlyList<int>? responseStarts, CancellationToken ct)
    {
        var keepRows = rows is not null;
        var sessionRows = rows?.ToArray() ?? Enumerable.Range(0, lm.RowCount).ToArray(); // result index -> session row, when kept
        var count = sessionRows.Length;
        if (keys.Length != count) throw new ArgumentException($"Expected one key per generated row ({count}), got {keys.Length}.", nameof(keys));
        if (responseStarts is not null && responseStarts.Count != count)
            throw new ArgumentException($"Expected one response start per generated row ({count}), got {responseStarts.Count}.", nameof(responseStarts));
        foreach (var g in guides)
            if (g.RowCount != lm.RowCount) throw new ArgumentException($"Guide session {g.Info.Source} has {g.RowCount} rows; the LM session has {lm.RowCount}.", nameof(guides));
        // A guide that cannot hold as many tokens as the LM limits the response like the LM's own context does.
        var context = guides.Aggregate(lm.Info.ContextLength, (c, g) => Math.Min(c, g.Info.ContextLength));
        var responses = new ResponseTracker[count];
        for (var r = 0; r < count; r++)
        {
            var tokens = lm.GetTokens(sessionRows[r]);
            var start = responseStarts?[r] ?? tokens.Length;
            if ((uint)start > (uint)tokens.Length) throw new ArgumentOutOfRangeException(nameof(responseStarts), $"Response start {start} is outside row {sessionRows[r]} ({tokens.Length} tokens).");
            var row = r;
            responses[r] = new ResponseTracker(model, tokens[..start], options, context, $"row {sessionRows[r]}", OnText is null ? null : text => OnText(row, text));
            // A response prefix is replayed through the same stopping rules, so it ends exactly where sampling it would have.
            if (start < tokens.Length && !responses[r].Replay(tokens[start..]))
                throw new ArgumentException($"Row {sessionRows[r]} continues past the end of its response prefix.", nameof(responseStarts));
        }
        var live = Enumerable.Range(0, count).Where(r => !responses[r].Done).ToList(); // live[i] = result index of unfinished row i (session row i when rows are dropped)
        if (!keepRows && live.Count < count)
        {
            var kept = live.ToArray();
            lm.Select(kept);
            foreach (var g in guides) g.Select(kept);
        }
        Loop(lm, guides, keys.ToArray(), responses, live, choose, scores, keepRows ? sessionRows : null, int.MaxValue, context, ct, null);
        return responses.Select(t => t.Result).ToArray();
    }

    /// <summary>
    /// Continues <paramref name="responses"/> (all unfinished; session row i of <paramref name="lm"/> and of every guide
    /// holds response i) for at most <paramref name="maxSteps"/> tokens each, drawing with <paramref name="keys"/>[i]
    /// whose step advances with the response's length. Finished rows are dropped from every session; returns the indices
    /// of the responses still running, in session-row order. How SMC advances its particles block by block and blockwise
    /// decoding its continuations. Cancellation finishes the running responses as cancelled (they stay in the sessions
    /// and are returned, done).
    /// </summary>
    /// <param name="lm">The LM session; row i holds response i.</param>
    /// <param name="guides">Sessions kept in lockstep with the LM (same rows).</param>
    /// <param name="keys">Row ids (and base steps) of the responses' draws.</param>
    /// <param name="responses">The running responses.</param>
    /// <param name="maxSteps">Tokens to add at most (a block).</param>
    /// <param name="ct">Stops within one step.</param>
    /// <param name="finished">Called with each response's index as it finishes, in the order they finish.</param>
    public int[] Advance(IDecoderSession lm, IReadOnlyList<IDecoderSession> guides, ReadOnlySpan<SampleKey> keys, IReadOnlyList<ResponseTracker> responses,
        int maxSteps, CancellationToken ct, Action<int>? finished = null)
    {
        if (keys.Length != responses.Count || lm.RowCount != responses.Count)
            throw new ArgumentException($"Expected one session row and one key per response ({responses.Count}); got {lm.RowCount} rows and {keys.Length} keys.");
        if (responses.Any(r => r.Done)) throw new ArgumentException("Every response to advance must still be running.", nameof(responses));
        var context = guides.Aggregate(lm.Info.ContextLength, (c, g) => Math.Min(c, g.Info.ContextLength));
        var live = Enumerable.Range(0, responses.Count).ToList();
        Loop(lm, guides, keys.ToArray(), [.. responses], live, null, null, null, maxSteps, context, ct, finished);
        return [.. live];
    }

    /// <summary>
    /// The step loop: <paramref name="live"/>[i] is the response of session row i (or of row <paramref name="sessionRows"/>[live[i]]
    /// when finished rows are kept); it is updated in place and ends holding the responses still running.
    /// </summary>
    private void Loop(IDecoderSession lm, IReadOnlyList<IDecoderSession> guides, SampleKey[] baseKeys, ResponseTracker[] responses, List<int> live,
        TokenChooser? choose, float?[]? scores, int[]? sessionRows, int maxSteps, int context, CancellationToken ct, Action<int>? onFinished)
    {
        var keepRows = sessionRows is not null;
        var results = responses.Select(t => t.Result).ToArray();
        int hits = 0, guessed = 0;
        var eos = options.IgnoreEos ? [] : model.EosTokenIds.ToHashSet();
        var vocab = model.Lm.Info.VocabSize;
        var sampler = new TokenSampler(kernels, vocab, options.Sampling);
        for (var stepCount = 0; live.Count > 0 && stepCount < maxSteps; stepCount++)
        {
            var sampleKeys = new SampleKey[live.Count];
            for (var i = 0; i < live.Count; i++)
                sampleKeys[i] = baseKeys[live[i]] with { Step = baseKeys[live[i]].Step + results[live[i]].Tokens.Count };
            var next = new int[live.Count];
            var nextScores = new float[live.Count];
            float[]? current = null;
            int[]? guesses = null;
            var width = 0;
            try
            {
                ct.ThrowIfCancellationRequested();
                var first = lm.Telemetry.ModelCalls;
                var logits = lm.Forward(ct);
                if (results.All(g => g.Tokens.Count == 0) && lm.Telemetry.ModelCalls > first) PrefillTime = lm.Telemetry.LastStep.WallTime;
                if (choose is null)
                {
                    var rowLogits = keepRows ? GatherLive(logits) : logits.Values.Span;
                    sampler.Draw(rowLogits, sampleKeys, next, i => results[live[i]].Tokens);
                }
                else
                {
                    // No guess may run past the context (the stop rules end such rows without another LM step).
                    var speculate = Speculate;
                    for (var i = 0; speculate && i < live.Count; i++) speculate = lm.GetTokens(i).Length < context;
                    if (!speculate)
                        choose(logits, sampleKeys, next, nextScores, ct);
                    else
                    {
                        // The chooser reads its own copy: the speculative step reuses the session's output buffers.
                        current = logits.Values.ToArray();
                        width = logits.Width;
                        guesses = new int[live.Count];
                        for (var i = 0; i < live.Count; i++) guesses[i] = TensorPrimitives.IndexOfMax(current.AsSpan(i * width, width));
                        var ahead = Task.Run(() =>
                        {
                            lm.AppendToAll(guesses);
                            lm.Forward(ct);
                        }, CancellationToken.None);
                        try
                        {
                            choose(new RowOutputs(current, logits.Rows, logits.Width), sampleKeys, next, nextScores, ct);
                        }
                        finally
                        {
                            // The LM session is not thread-safe: nothing touches it before the speculative step is over.
                            try { ahead.Wait(CancellationToken.None); }
                            catch (AggregateException e) when (e.InnerException is OperationCanceledException) { }
                        }
                        ct.ThrowIfCancellationRequested();
                    }
                }
            }
            catch (OperationCanceledException)
            {
                foreach (var i in live) responses[i].Finish(FinishReason.Cancelled);
                break;
            }

            var keep = new List<int>(live.Count);
            for (var i = 0; i < live.Count; i++)
            {
                var r = live[i];
                var token = next[i];
                if (scores is not null && !eos.Contains(token)) scores[r] = float.IsNaN(nextScores[i]) ? null : nextScores[i];
                var done = responses[r].Add(token, eos);
                if (guesses is not null)
                {
                    guessed++;
                    if (guesses[i] == token) hits++;
                    else if (!done) lm.Rewind(i, lm.GetTokens(i).Length - 1, current.AsSpan(i * width, width));
                }
                if (done)
                {
                    onFinished?.Invoke(r);
                    continue;
                }
                if (guesses is null || guesses[i] != token) lm.Append(keepRows ? sessionRows![r] : i, [token]);
                foreach (var g in guides) g.Append(i, [token]);
                keep.Add(i);
            }
            var before = live.ToArray();
            if (keepRows)
                Replace(keep.Select(i => before[i]));
            else if (keep.Count < live.Count)
            {
                SelectAll(keep.ToArray());
                Replace(keep.Select(i => before[i]));
            }
            if (AfterStep is not null && live.Count > 0 && AfterStep(results[live[0]].Tokens.Count, live) is { } kept)
            {
                var keptSet = kept.ToHashSet();
                for (var i = 0; i < live.Count; i++)
                    if (!keptSet.Contains(i)) responses[live[i]].Prune();
                SelectAll(kept);
                var pruned = live.ToArray();
                Replace(kept.Select(i => pruned[i]));
            }
        }
        Speculation = (hits, guessed);

        void Replace(IEnumerable<int> next)
        {
            var copy = next.ToList();
            live.Clear();
            live.AddRange(copy);
        }

        void SelectAll(int[] kept)
        {
            lm.Select(kept);
            foreach (var g in guides) g.Select(kept);
        }

        ReadOnlySpan<float> GatherLive(RowOutputs all)
        {
            var gathered = new float[live.Count * vocab];
            for (var i = 0; i < live.Count; i++) all.Row(sessionRows![live[i]]).CopyTo(gathered.AsSpan(i * vocab, vocab));
            return gathered;
        }
    }
}
