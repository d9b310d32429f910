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

        var live = Enumerable.Range(0, rows).ToList(); // live[i] = result index of session row i
        var eos = options.IgnoreEos ? [] : model.EosTokenIds.ToHashSet();
        while (live.Count > 0)
        {
            var sampleKeys = new SampleKey[live.Count];
            for (var i = 0; i < live.Count; i++)
                sampleKeys[i] = keys[live[i]] with { Step = keys[live[i]].Step + results[live[i]].Tokens.Count };
            var next = new int[live.Count];
            var nextScores = new float[live.Count];
            try
            {
                ct.ThrowIfCancellationRequested();
                var first = lm.Telemetry.ModelCalls;
                var logits = lm.Forward(ct);
                if (results.All(g => g.Tokens.Count == 0) && lm.Telemetry.ModelCalls > first) PrefillTime = lm.Telemetry.LastStep.WallTime;
                choose(logits, sampleKeys, next, nextScores, ct);
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
                if (responses[r].Add(token, eos)) continue;
                lm.Append(i, [token]);
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
        lastScores = scores;
        return results;
    }
}
