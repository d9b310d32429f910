namespace DecodeAlign.Testing;

/// <summary>Goodness-of-fit tests for checking sampled frequencies against an exactly computed target distribution.</summary>
public static class Statistics
{
    /// <summary>
    /// Pearson's chi-square statistic of <paramref name="counts"/> against <paramref name="probabilities"/> and its
    /// p-value (upper tail of χ² with k − 1 degrees of freedom, k = outcomes with nonzero probability). Outcomes with
    /// zero target probability that were observed give p = 0.
    /// </summary>
    public static (double ChiSquare, double PValue) ChiSquare(IReadOnlyList<long> counts, IReadOnlyList<double> probabilities)
    {
        if (counts.Count != probabilities.Count) throw new ArgumentException("counts and probabilities differ in length");
        var n = counts.Sum();
        double chi = 0;
        var k = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (probabilities[i] <= 0)
            {
                if (counts[i] > 0) return (double.PositiveInfinity, 0);
                continue;
            }
            k++;
            var e = n * probabilities[i];
            chi += (counts[i] - e) * (counts[i] - e) / e;
        }
        return (chi, k <= 1 ? 1 : UpperRegularizedGamma((k - 1) / 2.0, chi / 2));
    }

    /// <summary>Total-variation distance ½ Σ |p̂ − p| between empirical frequencies and a target.</summary>
    public static double TotalVariation(IReadOnlyList<long> counts, IReadOnlyList<double> probabilities)
    {
        double n = counts.Sum(), tv = 0;
        for (var i = 0; i < counts.Count; i++) tv += Math.Abs(counts[i] / n - probabilities[i]);
        return tv / 2;
    }

    /// <summary>Q(a, x) = Γ(a, x) / Γ(a), by series for x &lt; a + 1 and by continued fraction otherwise (Numerical Recipes §6.2).</summary>
    public static double UpperRegularizedGamma(double a, double x)
    {
        if (x <= 0) return 1;
        var lnGammaA = LogGamma(a);
        if (x < a + 1)
        {
            double sum = 1 / a, term = sum;
            for (var n = 1; n < 10_000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-15) break;
            }
            return 1 - sum * Math.Exp(-x + a * Math.Log(x) - lnGammaA);
        }
        double b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
        for (var i = 1; i < 10_000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < 1e-300) d = 1e-300;
            c = b + an / c;
            if (Math.Abs(c) < 1e-300) c = 1e-300;
            d = 1 / d;
            var del = d * c;
            h *= del;
            if (Math.Abs(del - 1) < 1e-15) break;
        }
        return Math.Exp(-x + a * Math.Log(x) - lnGammaA) * h;
    }

    /// <summary>ln Γ(x) by the Lanczos approximation (g = 7, n = 9).</summary>
    public static double LogGamma(double x)
    {
        double[] g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        var a = g[0];
        var t = x + 7.5;
        for (var i = 1; i < 9; i++) a += g[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }
}
