namespace DecodeAlign.Models.Rewards;

/// <summary>
/// Scores whole (prompt, response) pairs with a scalar reward (for the built-in models, the log-odds that the
/// response is correct: the Bradley–Terry scale). Works on text so that a reward model may have its own tokenizer.
/// Thread-safe.
/// </summary>
public interface IRewardModel : IDisposable
{
    /// <summary>The file the model was loaded from.</summary>
    string Source { get; }

    /// <summary>One reward per query, in order; batched internally.</summary>
    float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default);
}

/// <summary>A prompt and a candidate response to score.</summary>
/// <param name="Prompt">The prompt text as the LM saw it.</param>
/// <param name="Response">The generated response text.</param>
public sealed record RewardQuery(string Prompt, string Response);
