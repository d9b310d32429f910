namespace DecodeAlign.Cli.Compare;

/// <summary>The 95% Wilson score interval of a proportion: it stays inside [0, 1] and is sensible at 0 and n successes.</summary>
internal static class WilsonInterval
{
    /// <summary>The interval for <paramref name="successes"/> of <paramref name="n"/> (successes may be fractional: ties counted as halves).</summary>
    public static (double Low, double High) Of(double successes, int n)
    {
        const double z = 1.959963984540054;
        var p = successes / n;
        var centre = (p + z * z / (2 * n)) / (1 + z * z / n);
        var half = z * Math.Sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / (1 + z * z / n);
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}
