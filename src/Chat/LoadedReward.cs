using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Chat;

/// <summary>A reward built from a <see cref="RewardSpec"/>: the whole-response reward, the same as a prefix scorer, and the models it loaded (disposed with it).</summary>
public sealed class LoadedReward(RewardSpec spec, IRewardModel reward, IPrefixScorer? prefixScorer, IReadOnlyList<IDisposable> owned) : IDisposable
{
    /// <summary>The SPEC it was built from.</summary>
    public RewardSpec Spec { get; } = spec;

    /// <summary>Scores (prompt, response) text.</summary>
    public IRewardModel Reward { get; } = reward;

    /// <summary>The same reward over prefixes in the LM's token space (null when a term cannot score prefixes).</summary>
    public IPrefixScorer? PrefixScorer { get; } = prefixScorer;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
    }
}
