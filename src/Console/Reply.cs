using System.Globalization;
using DecodeAlign.Chat;
using Microsoft.Extensions.AI;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// A finished reply with what it cost. The compute counts are why the console exists: strategies differ less in what
/// they answer than in how many LM and scorer tokens they spend to get there.
/// </summary>
/// <param name="Strategy">The strategy that produced it (as the client reports it).</param>
/// <param name="Text">The reply text, trimmed.</param>
/// <param name="Reward">The reward of the reply, where the strategy scored it.</param>
/// <param name="OutputTokens">Tokens in the reply.</param>
/// <param name="LmTokens">Tokens run through the LM, discarded candidates included.</param>
/// <param name="ScorerTokens">Tokens run through reward, value and baseline models.</param>
/// <param name="ModelCalls">Model invocations, LM and scorers together.</param>
/// <param name="AcceptanceRate">QAlign's Metropolis–Hastings acceptance rate; null for other strategies.</param>
/// <param name="Elapsed">Wall time from request to last update, as the user waited it.</param>
internal sealed record Reply(string Strategy, string Text, double? Reward, long OutputTokens, long LmTokens, long ScorerTokens, long ModelCalls,
    double? AcceptanceRate, TimeSpan Elapsed)
{
    /// <summary>Tokens computed by every model, the number to compare strategies by.</summary>
    public long TokensComputed => LmTokens + ScorerTokens;

    /// <summary>Reads the client's last update (usage and properties); a stream that ended without one reports zeros rather than failing the reply.</summary>
    public static Reply From(string strategy, string text, ChatResponseUpdate? final, TimeSpan elapsed)
    {
        var usage = final?.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        var props = final?.AdditionalProperties;
        long Count(string key) => usage?.AdditionalCounts is { } c && c.TryGetValue(key, out var v) ? v : 0;
        double? Number(string key) => props is not null && props.TryGetValue(key, out var v) && v is not null ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : null;
        var used = props is not null && props.TryGetValue(ChatOptionKeys.StrategyUsed, out var s) && s is string name ? name : strategy;
        return new Reply(used, text.Trim(), Number(ChatOptionKeys.ResponseReward), usage?.OutputTokenCount ?? 0, Count(ChatOptionKeys.LmTokens),
            Count(ChatOptionKeys.ScorerTokens), Count(ChatOptionKeys.ModelCalls), Number(ChatOptionKeys.AcceptanceRate), elapsed);
    }

    /// <summary>The reward as the console prints it, or "-" where the strategy did not score.</summary>
    public string RewardText => Reward is double r ? r.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    /// <summary>The wall time as the console prints it.</summary>
    public string TimeText => Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    /// <summary>The acceptance rate as a percentage, or "-" for strategies without a chain.</summary>
    public string AcceptanceText => AcceptanceRate is double a ? (a * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";

    /// <summary>The one-line summary under a reply; plain ASCII so that it reads the same in any terminal and in logs.</summary>
    public string StatsLine()
    {
        var parts = new List<string>();
        if (Reward is not null) parts.Add($"reward {RewardText}");
        parts.Add($"{OutputTokens} output tokens");
        parts.Add($"computed {LmTokens} LM + {ScorerTokens} scorer tokens");
        parts.Add($"{ModelCalls} model calls");
        parts.Add(TimeText);
        if (AcceptanceRate is not null) parts.Add($"acceptance {AcceptanceText}");
        return string.Join(", ", parts);
    }
}
