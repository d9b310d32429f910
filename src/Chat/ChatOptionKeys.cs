namespace DecodeAlign.Chat;

/// <summary>
/// The <see cref="Microsoft.Extensions.AI.ChatOptions.AdditionalProperties"/> keys DecodeAlign reads and writes. Any
/// other key "decodealign.NAME" sets the chosen strategy's option NAME (as listed by <c>decodealign strategies</c>), so
/// "decodealign.n", "decodealign.beta", "decodealign.lambda" work for the strategies that read them.
/// </summary>
public static class ChatOptionKeys
{
    /// <summary>Prefix of every DecodeAlign key.</summary>
    public const string Prefix = "decodealign.";

    /// <summary>The strategy name (see <see cref="Decoding.StrategyCatalog"/>); default: the client's.</summary>
    public const string Strategy = Prefix + "strategy";

    /// <summary>A reward SPEC for this request (see <see cref="RewardSpec"/>); default: the bundle's reward.</summary>
    public const string Reward = Prefix + "reward";

    /// <summary>Response: the reward of the returned response, where the strategy scored it.</summary>
    public const string ResponseReward = Prefix + "reward_score";

    /// <summary>Response: QAlign's Metropolis–Hastings acceptance rate.</summary>
    public const string AcceptanceRate = Prefix + "acceptance_rate";

    /// <summary>Response: the strategy that produced it.</summary>
    public const string StrategyUsed = Prefix + "strategy_used";

    /// <summary>Streaming: an update with this key reports progress of a strategy that chooses at the end (no text).</summary>
    public const string Progress = Prefix + "progress";

    /// <summary>Usage: tokens run through the LM (prompt, generated and discarded candidates).</summary>
    public const string LmTokens = Prefix + "lm_tokens";

    /// <summary>Usage: tokens run through reward, value, scorer and baseline models.</summary>
    public const string ScorerTokens = Prefix + "scorer_tokens";

    /// <summary>Usage: model invocations (LM and scorers).</summary>
    public const string ModelCalls = Prefix + "model_calls";

    /// <summary>Usage: tokens sampled, including discarded candidates and lookaheads.</summary>
    public const string GeneratedTokens = Prefix + "generated_tokens";

    /// <summary>Usage: QAlign's acceptance rate in thousandths (usage counts are integers).</summary>
    public const string AcceptancePermille = Prefix + "acceptance_permille";
}
