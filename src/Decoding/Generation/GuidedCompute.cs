using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Generation;

/// <summary>Builds the <see cref="ComputeTrace"/> of a decode that ran an LM session and guide sessions (scorer, value models).</summary>
internal static class GuidedCompute
{
    /// <summary>LM totals from <paramref name="lm"/>, reward totals summed over <paramref name="guides"/>, model time of all of them.</summary>
    public static ComputeTrace Trace(IDecoderSession lm, IEnumerable<IDecoderSession> guides, long generatedTokens, TimeSpan wall, TimeSpan prefill)
    {
        long rewardTokens = 0, rewardCalls = 0;
        var modelTime = lm.Telemetry.RuntimeTime;
        foreach (var g in guides)
        {
            rewardTokens += g.Telemetry.TokensComputed;
            rewardCalls += g.Telemetry.ModelCalls;
            modelTime += g.Telemetry.RuntimeTime;
        }
        return new ComputeTrace(lm.Telemetry.TokensComputed, lm.Telemetry.ModelCalls, rewardTokens, rewardCalls, generatedTokens, modelTime, wall, prefill);
    }
}
