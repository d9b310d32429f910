using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// A programmatic reward (DeAL's "custom alignment objectives"): scores (prompt, response) text with code instead of a
/// model, and optionally unfinished responses, so that prefix-guided strategies (ARGS, SMC twists, early pruning) can
/// use it through <see cref="CompositeReward"/>. Being an <see cref="IRewardModel"/>, it also serves alone as
/// <see cref="Potentials.Reward"/>. Implementations must be thread-safe and deterministic.
/// </summary>
public abstract class TextReward : IRewardModel
{
    /// <summary>Creates a reward called <paramref name="name"/> (shown in traces, reports and errors).</summary>
    protected TextReward(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The reward's name, e.g. <c>calc</c> or <c>length:64</c>.</summary>
    public string Name { get; }

    /// <inheritdoc />
    public string Source => Name;

    /// <summary>The reward of a finished <paramref name="response"/> to <paramref name="prompt"/>.</summary>
    public abstract float Score(string prompt, string response);

    /// <summary>
    /// Whether <see cref="ScorePrefix"/> says anything about unfinished responses. When false, a prefix scores 0 and
    /// composites skip decoding text for this reward. Override together with <see cref="ScorePrefix"/>.
    /// </summary>
    public virtual bool ScoresPrefixes => false;

    /// <summary>The reward's view of an unfinished response <paramref name="prefix"/> (default 0: no information).</summary>
    public virtual float ScorePrefix(string prompt, string prefix) => 0f;

    /// <summary>
    /// Fills <paramref name="scores"/>[i] with <see cref="ScorePrefix"/>(prompt, prefix + extensions[i]): how a
    /// candidate session scores every token of the vocabulary after one row. The default concatenates and scores each;
    /// override to share the work on <paramref name="prefix"/> (the result must be the same).
    /// </summary>
    public virtual void ScoreExtensions(string prompt, string prefix, ReadOnlySpan<string> extensions, Span<float> scores)
    {
        if (scores.Length != extensions.Length) throw new ArgumentException($"Expected {extensions.Length} score slots, got {scores.Length}.", nameof(scores));
        for (var i = 0; i < extensions.Length; i++) scores[i] = ScorePrefix(prompt, string.Concat(prefix, extensions[i]));
    }

    /// <inheritdoc />
    public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default)
    {
        var scores = new float[queries.Count];
        for (var i = 0; i < scores.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            scores[i] = Score(queries[i].Prompt, queries[i].Response);
        }
        return scores;
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Releases nothing by default; override when the reward holds resources.</summary>
    public virtual void Dispose() { }
}
