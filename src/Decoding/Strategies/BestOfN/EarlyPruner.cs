using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Speculative Rejection's pruning step for best-of-N (Sun et al. 2024), plugged into the generator's AfterStep:
/// at each configured token count, scores every running candidate with the prefix scorer and keeps the
/// m − ⌊α·m⌋ best of each prompt's m (ties: lowest candidate index). The scorer session is created at the first
/// prune point (prompts prefilled once, then forked) and keeps each survivor's cache, so later prune points only
/// run the tokens generated since.
/// </summary>
internal sealed class EarlyPruner(IPrefixScorer scorer, ITokenKernels kernels, IReadOnlyList<int[]> prompts, int candidatesPerPrompt,
    IReadOnlyList<int> pruneAt, double fraction, IDecoderSession lm, CancellationToken ct) : IDisposable
{
    private IDecoderSession? _session;
    private List<int> _rowCandidate = []; // candidate index of each scorer row (−1 − p for prompt p's prefill row)

    /// <summary>Work done by the scorer, or null when no prune point was reached.</summary>
    public SessionTelemetry? Telemetry => _session?.Telemetry;

    /// <summary>The generator hook: <paramref name="live"/>[i] is the candidate in LM session row i.</summary>
    public int[]? AfterStep(int generated, IReadOnlyList<int> live)
    {
        if (!pruneAt.Contains(generated)) return null;
        // Live candidates are in candidate order, so each prompt's are contiguous.
        var groups = new List<(int Prompt, int Start, int Count)>();
        for (var i = 0; i < live.Count; i++)
        {
            var p = live[i] / candidatesPerPrompt;
            if (groups.Count > 0 && groups[^1].Prompt == p) groups[^1] = groups[^1] with { Count = groups[^1].Count + 1 };
            else groups.Add((p, i, 1));
        }
        if (groups.All(g => (int)Math.Floor(fraction * g.Count) == 0)) return null;

        float[] scores;
        try
        {
            scores = Score(live);
        }
        catch (OperationCanceledException)
        {
            return null; // the generator stops at its next cancellation check
        }

        var width = groups.Max(g => g.Count);
        var padded = new float[groups.Count * width];
        Array.Fill(padded, float.NegativeInfinity);
        for (var g = 0; g < groups.Count; g++)
            scores.AsSpan(groups[g].Start, groups[g].Count).CopyTo(padded.AsSpan(g * width));
        var order = new int[groups.Count * width];
        var sorted = new float[groups.Count * width];
        kernels.TopK(padded, width, width, order, sorted);
        var keep = new List<int>(live.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            var m = groups[g].Count;
            var survivors = m - (int)Math.Floor(fraction * m);
            for (var j = 0; j < survivors; j++) keep.Add(groups[g].Start + order[g * width + j]);
        }
        keep.Sort();
        _rowCandidate = keep.Select(i => live[i]).ToList();
        _session!.Select(keep.ToArray());
        return [.. keep];
    }

    /// <summary>Prefix score of every live candidate, with the scorer session rebuilt to hold exactly those rows.</summary>
    private float[] Score(IReadOnlyList<int> live)
    {
        if (_session is null)
        {
            _session = scorer.CreateSession();
            for (var p = 0; p < prompts.Count; p++)
            {
                _session.AddRow(prompts[p]);
                _rowCandidate.Add(-1 - p);
            }
            _session.Forward(ct);
        }
        var rowOf = new Dictionary<int, int>();
        for (var r = 0; r < _rowCandidate.Count; r++) rowOf[_rowCandidate[r]] = r;
        var sources = live.Select(c => rowOf.TryGetValue(c, out var r) ? r : rowOf[-1 - c / candidatesPerPrompt]).ToArray();
        _session.Select(sources);
        _rowCandidate = [.. live];
        for (var i = 0; i < live.Count; i++)
        {
            var have = _session.GetTokens(i).Length;
            _session.Append(i, lm.GetTokens(i)[have..]);
        }
        var output = _session.Forward(ct);
        var scores = new float[live.Count];
        for (var i = 0; i < live.Count; i++) scores[i] = output.Row(i)[0];
        return scores;
    }

    public void Dispose() => _session?.Dispose();
}
