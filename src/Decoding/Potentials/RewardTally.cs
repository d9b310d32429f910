using System.Diagnostics;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding;

/// <summary>
/// Scores responses with a text-level reward model and counts the work for the trace: the model's tokenizer is
/// its own, so a call counts as one reward call and each scored row as one reward "token".
/// </summary>
public sealed class RewardTally(IRewardModel model, LanguageModel lm)
{
    /// <summary>Score calls made.</summary>
    public long Calls { get; private set; }

    /// <summary>Responses scored.</summary>
    public long Rows { get; private set; }

    /// <summary>Time inside the reward model.</summary>
    public TimeSpan Time { get; private set; }

    /// <summary>Calls, rows and time together, as <see cref="Engine.ComputeMeter.Trace"/> takes them.</summary>
    public (long Calls, long Tokens, TimeSpan Time) Work => (Calls, Rows, Time);

    /// <summary>One batched Score call for (prompt tokens, response text) pairs; the prompt is decoded with the LM's tokenizer.</summary>
    public float[] Score(IReadOnlyList<(int[] Prompt, string Response)> items, CancellationToken ct)
    {
        if (items.Count == 0) return [];
        var promptTexts = new Dictionary<int[], string>(ReferenceEqualityComparer.Instance);
        var queries = items.Select(x =>
        {
            if (!promptTexts.TryGetValue(x.Prompt, out var text)) promptTexts[x.Prompt] = text = lm.Tokenizer.Decode(x.Prompt);
            return new RewardQuery(text, x.Response);
        }).ToArray();
        return Score(queries, ct);
    }

    /// <summary>One batched Score call for ready (prompt text, response text) queries.</summary>
    public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken ct)
    {
        if (queries.Count == 0) return [];
        var watch = Stopwatch.StartNew();
        var scores = model.Score(queries, ct);
        Time += watch.Elapsed;
        Calls++;
        Rows += queries.Count;
        if (scores.Length != queries.Count)
            throw new InvalidOperationException($"{model.Source} returned {scores.Length} rewards for {queries.Count} queries.");
        return scores;
    }
}
