using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding;

/// <summary>
/// Scores rows extended by candidate token runs with one reward — the heuristic of DeAL's lookaheads and the reward of
/// Transfer Q*'s rollouts. With a prefix scorer, a session of "anchor" rows follows the caller's rows; a batch of
/// extensions forks the anchors, appends each run (and the end-of-sequence token where the run ended on one), scores
/// them all in one call and drops the forks, so the anchors' cache is reused and never recomputed. Without one, the
/// text reward scores (prompt, decoded response) pairs.
/// </summary>
public sealed class ExtensionScorer : IDisposable
{
    private readonly LanguageModel _model;
    private readonly RewardTally? _text;
    private readonly int? _eos;

    /// <summary>Uses <paramref name="scorer"/> when given (it must score the LM's tokens), else the text <paramref name="reward"/>.</summary>
    public ExtensionScorer(LanguageModel model, IPrefixScorer? scorer, IRewardModel? reward)
    {
        if (scorer is null && reward is null) throw new ArgumentException("an extension scorer needs a prefix scorer or a reward model");
        _model = model;
        _text = scorer is null ? new RewardTally(reward!, model) : null;
        Session = scorer?.CreateSession();
        _eos = model.EosTokenIds.Count > 0 ? model.EosTokenIds[0] : null;
    }

    /// <summary>The anchor session (null for a text reward): callers add, append, select and drop its rows in step with their own.</summary>
    public IDecoderSession? Session { get; }

    /// <summary>
    /// The reward of each extension: extension i continues anchor row <paramref name="anchors"/>[i] (whose full tokens
    /// are <paramref name="prefixes"/>[i], the first <paramref name="promptLengths"/>[i] of them the prompt) by
    /// <paramref name="runs"/>[i], followed by an end-of-sequence token where <paramref name="ended"/>[i].
    /// </summary>
    public float[] Score(ReadOnlySpan<int> anchors, IReadOnlyList<int[]> prefixes, ReadOnlySpan<int> promptLengths,
        IReadOnlyList<int[]> runs, ReadOnlySpan<bool> ended, CancellationToken cancellationToken)
    {
        var n = anchors.Length;
        if (n == 0) return [];
        if (Session is { } s)
        {
            var count = s.RowCount;
            var select = new int[count + n];
            for (var r = 0; r < count; r++) select[r] = r;
            anchors.CopyTo(select.AsSpan(count));
            s.Select(select);
            for (var i = 0; i < n; i++)
            {
                if (runs[i].Length > 0) s.Append(count + i, runs[i]);
                if (ended[i] && _eos is int e) s.Append(count + i, [e]);
            }
            var outputs = s.Forward(cancellationToken);
            var scores = new float[n];
            for (var i = 0; i < n; i++) scores[i] = outputs.Row(count + i)[0];
            s.Select(select.AsSpan(0, count));
            return scores;
        }
        var queries = new RewardQuery[n];
        var promptTexts = new Dictionary<(int[], int), string>();
        for (var i = 0; i < n; i++)
        {
            var prefix = prefixes[i];
            var key = (prefix, promptLengths[i]);
            if (!promptTexts.TryGetValue(key, out var prompt)) promptTexts[key] = prompt = _model.Tokenizer.Decode(prefix.AsSpan(0, promptLengths[i]));
            queries[i] = new RewardQuery(prompt, _model.Tokenizer.Decode([.. prefix.AsSpan(promptLengths[i]), .. runs[i]]));
        }
        return _text!.Score(queries, cancellationToken);
    }

    /// <summary>The text reward's work (calls, rows, time) for <see cref="Engine.ComputeMeter.Trace"/>; zero with a prefix scorer, whose <see cref="Session"/> counts its own.</summary>
    public (long Calls, long Tokens, TimeSpan Time) TextWork => _text?.Work ?? default;

    /// <inheritdoc />
    public void Dispose() => Session?.Dispose();
}
