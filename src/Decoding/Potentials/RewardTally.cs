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
        var watch = Stopwatch.StartNew();
        var scores = model.Score(queries, ct);
        Time += watch.Elapsed;
        Calls++;
        Rows += queries.Length;
        if (scores.Length != queries.Length)
            throw new InvalidOperationException($"{model.Source} returned {scores.Length} rewards for {queries.Length} queries.");
        return scores;
    }
}
