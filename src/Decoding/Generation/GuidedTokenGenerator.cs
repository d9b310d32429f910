using System.Numerics.Tensors;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Generation;

/// <summary>
/// The token-level guided decoding loop (ARGS, VAS): like <see cref="SequenceGenerator"/>, one batched LM call per
/// step for all unfinished rows and the same stop rules, but the next tokens come from a <see cref="TokenChooser"/>
/// that also runs guide sessions (prefix scorer, value models). Row i of every guide session is row i of the LM
/// session: chosen tokens are appended to all of them and finished rows dropped from all of them in the same step,
/// so each guide's KV cache advances by exactly the tokens the LM advances by.
/// </summary>
internal sealed class GuidedTokenGenerator(LanguageModel model, GenerationOptions options)
{
    /// <summary>Wall time of the first LM call of the last <see cref="Generate"/> (the prompt prefill).</summary>
    public TimeSpan PrefillTime { get; private set; }

    /// <summary>Called with (row, text) as text becomes final, for streaming.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>
    /// Speculative LM steps: while the chooser runs its guide calls, the LM already runs the next step on each row's
    /// highest-logit token on another thread; rows whose chosen token differs are rewound (<see cref="IDecoderSession.Rewind"/>)
    /// and re-run with the chosen one. Outputs do not depend on the machine: the guesses and the rewinds are the same
    /// whatever the core count, only the overlap differs. Pays off when the choice usually is the LM's top token (ARGS).
    /// </summary>
    public bool Speculate { get; init; }

    /// <summary>Speculative LM steps whose guess was the chosen token, of all speculative row-steps (last Generate).</summary>
    public (int Hits, int Guesses) Speculation { get; private set; }

    /// <summary>
    /// Generates a response for every row of <paramref name="lm"/> (its tokens so far are its prompt; every guide
    /// session holds the same rows). Row r draws with <paramref name="keys"/>[r] = (stable row id, step of its first
    /// new token). <paramref name="lastScores"/>[r] is the chooser's score of the row's last kept token (the guide's
    /// score of the whole response), or null when the response is empty or the chooser gives no score.
    /// </summary>
    public GeneratedSequence[] Generate(IDecoderSession lm, IReadOnlyList<IDecoderSession> guides, ReadOnlySpan<SampleKey> keys,
        TokenChooser choose, out float?[] lastScores, CancellationToken ct)
    {
        var rows = lm.RowCount;
        if (keys.Length != rows) throw new ArgumentException($"Expected one key per row ({rows}), got {keys.Length}.", nameof(keys));
        foreach (var g in guides)
            if (g.RowCount != rows) throw new ArgumentException($"Guide session {g.Info.Source} has {g.RowCount} rows; the LM session has {rows}.", nameof(guides));
        var scores = new float?[rows];
        // A guide that cannot hold as many tokens as the LM limits the response like the LM's own context does.
        var context = guides.Aggregate(lm.Info.ContextLength, (c, g) => Math.Min(c, g.Info.ContextLength));
        var responses = new ResponseTracker[rows];
        for (var r = 0; r < rows; r++)
        {
            var row = r;
            responses[r] = new ResponseTracker(model, lm.GetTokens(r), options, context, $"row {r}", OnText is null ? null : text => OnText(row, text));
        }
        var results = responses.Select(t => t.Result).ToArray();
        int hits = 0, guessed = 0;

        var live = Enumerable.Range(0, rows).ToList(); // live[i] = result index of session row i
        var eos = options.IgnoreEos ? [] : model.EosTokenIds.ToHashSet();
        while (live.Count > 0)
        {
            var sampleKeys = new SampleKey[live.Count];
            for (var i = 0; i < live.Count; i++)
                sampleKeys[i] = keys[live[i]] with { Step = keys[live[i]].Step + results[live[i]].Tokens.Count };
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
                if (!eos.Contains(token)) scores[r] = float.IsNaN(nextScores[i]) ? null : nextScores[i];
                var done = responses[r].Add(token, eos);
                if (guesses is not null)
                {
                    guessed++;
                    if (guesses[i] == token) hits++;
                    else if (!done)
                    {
                        var length = lm.GetTokens(i).Length - 1;
                        lm.Rewind(i, length, current.AsSpan(i * width, width));
                    }
                }
                if (done) continue;
                if (guesses is null || guesses[i] != token) lm.Append(i, [token]);
                foreach (var g in guides) g.Append(i, [token]);
                keep.Add(i);
            }
            if (keep.Count < live.Count)
            {
                var kept = keep.ToArray();
                lm.Select(kept);
                foreach (var g in guides) g.Select(kept);
                live = keep.Select(i => live[i]).ToList();
            }
        }
        Speculation = (hits, guessed);
        lastScores = scores;
        return results;
    }
}
