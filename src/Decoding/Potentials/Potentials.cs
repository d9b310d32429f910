using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding;

/// <summary>
/// What guides or scores decoding, kept apart from the samplers and inference algorithms that use it (as in
/// genlm-control): a whole-response reward model, a prefix scorer in the LM's token space, value models each with
/// its own weight β, and a task's answer extractor for voting. Compose a new one per request to change weights.
/// </summary>
public sealed record Potentials
{
    /// <summary>Scores whole (prompt, response) pairs: best-of-N, QAlign, SMC final weights.</summary>
    public IRewardModel? Reward { get; init; }

    /// <summary>Scores prefixes and candidate next tokens in the LM's token space: ARGS, blockwise, SMC twists, early pruning.</summary>
    public IPrefixScorer? PrefixScorer { get; init; }

    /// <summary>Token-level value models with their weights β (VAS); several compose by summing β_j·V_j.</summary>
    public IReadOnlyList<WeightedValueModel> Values { get; init; } = [];

    /// <summary>A baseline policy ρ_BL in the LM's token space whose rollouts estimate Q (Transfer Q*): aligned to <see cref="Reward"/> (direct transfer) or to <see cref="BaselineReward"/> (indirect).</summary>
    public ICausalLm? BaselinePolicy { get; init; }

    /// <summary>The reward r_BL the baseline policy was aligned to, when it is not the target reward (Transfer Q*'s indirect transfer).</summary>
    public IRewardModel? BaselineReward { get; init; }

    /// <summary>Extracts a task's final answer from a response (null = none), for majority and weighted voting.</summary>
    public Func<string, string?>? AnswerExtractor { get; init; }

    /// <summary>No potentials: plain decoding only.</summary>
    public static Potentials None { get; } = new();
}
