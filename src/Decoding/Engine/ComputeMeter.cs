using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Engine;

/// <summary>Builds the <see cref="ComputeTrace"/> of a decode from the sessions it ran and any text-level reward work.</summary>
public static class ComputeMeter
{
    /// <summary>
    /// LM totals from <paramref name="lm"/>; reward totals summed over <paramref name="guides"/> (scorers, value models,
    /// baseline policies) and <paramref name="extra"/> (text rewards: calls, rows, time); model time of all of them.
    /// </summary>
    public static ComputeTrace Trace(IDecoderSession lm, IEnumerable<IDecoderSession> guides, long generatedTokens, TimeSpan wall, TimeSpan prefill,
        params (long Calls, long Tokens, TimeSpan Time)[] extra)
    {
        long rewardTokens = 0, rewardCalls = 0;
        var modelTime = lm.Telemetry.RuntimeTime;
        foreach (var g in guides)
        {
            rewardTokens += g.Telemetry.TokensComputed;
            rewardCalls += g.Telemetry.ModelCalls;
            modelTime += g.Telemetry.RuntimeTime;
        }
        foreach (var (calls, tokens, time) in extra)
        {
            rewardCalls += calls;
            rewardTokens += tokens;
            modelTime += time;
        }
        return new ComputeTrace(lm.Telemetry.TokensComputed, lm.Telemetry.ModelCalls, rewardTokens, rewardCalls, generatedTokens, modelTime, wall, prefill);
    }
}
