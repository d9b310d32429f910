namespace DecodeAlign.Benchmarks.Peers;

/// <summary>The next-token choice for an engine that hands back logits: argmax, or one draw from softmax(logits) at temperature 1.</summary>
internal static class PlainSample
{
    public static int Choose(ReadOnlySpan<float> logits, bool greedy, Random rng)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        if (greedy) return best;
        var max = logits[best];
        double sum = 0;
        for (var i = 0; i < logits.Length; i++) sum += Math.Exp(logits[i] - max);
        var u = rng.NextDouble() * sum;
        for (var i = 0; i < logits.Length; i++)
        {
            u -= Math.Exp(logits[i] - max);
            if (u <= 0) return i;
        }
        return logits.Length - 1;
    }
}
