using Microsoft.Extensions.AI;

namespace DecodeAlign.Chat;

/// <summary>
/// <see cref="ChatOptions"/> with DecodeAlign's settings typed: the strategy, its options and the reward. They win over
/// the same settings in <see cref="ChatOptions.AdditionalProperties"/> (<see cref="ChatOptionKeys"/>).
/// </summary>
public class DecodeAlignChatOptions : ChatOptions
{
    /// <summary>The strategy name; null keeps the key or the client's default.</summary>
    public string? Strategy { get; set; }

    /// <summary>The strategy's options by name ("n", "beta", "top-k", …), as text.</summary>
    public IDictionary<string, string> StrategyOptions { get; set; } = new Dictionary<string, string>();

    /// <summary>A reward SPEC for this request; null keeps the key or the bundle's reward.</summary>
    public string? Reward { get; set; }

    /// <inheritdoc />
    public override ChatOptions Clone()
    {
        var copy = new DecodeAlignChatOptions
        {
            Strategy = Strategy,
            StrategyOptions = new Dictionary<string, string>(StrategyOptions),
            Reward = Reward,
        };
        CopyTo(copy, base.Clone());
        return copy;
    }

    private static void CopyTo(ChatOptions to, ChatOptions from)
    {
        to.ConversationId = from.ConversationId;
        to.Instructions = from.Instructions;
        to.Temperature = from.Temperature;
        to.MaxOutputTokens = from.MaxOutputTokens;
        to.TopP = from.TopP;
        to.TopK = from.TopK;
        to.FrequencyPenalty = from.FrequencyPenalty;
        to.PresencePenalty = from.PresencePenalty;
        to.Seed = from.Seed;
        to.ResponseFormat = from.ResponseFormat;
        to.ModelId = from.ModelId;
        to.StopSequences = from.StopSequences;
        to.AllowMultipleToolCalls = from.AllowMultipleToolCalls;
        to.ToolMode = from.ToolMode;
        to.Tools = from.Tools;
        to.AdditionalProperties = from.AdditionalProperties;
    }
}
