using System.Globalization;

namespace DecodeAlign.Cli.Compare;

/// <summary>
/// One cell of a comparison: a strategy at a budget (null for baselines without one) with its accuracy and 95% Wilson
/// interval (blank when the prompts have no answers to check), mean reward, compute and wall time. Written as one CSV line; everything but the wall time is
/// deterministic for a seed, so a resumed run reproduces the same cells.
/// </summary>
internal sealed record CompareCell(string Strategy, int? Budget, int Problems, int Correct, double? MeanReward, long LmTokens, long LmCalls,
    long ScorerTokens, long ScorerCalls, long GeneratedTokens, double? AcceptanceRate, double WallSeconds, bool Graded = true)
{
    public const string CsvHeader = "strategy,budget,problems,correct,accuracy,ci_low,ci_high,mean_reward,lm_tokens,lm_calls,scorer_tokens,scorer_calls,generated_tokens,acceptance_rate,wall_seconds";

    public double Accuracy => (double)Correct / Problems;

    /// <summary>The cell's key: strategy and budget.</summary>
    public string Key => KeyOf(Strategy, Budget);

    /// <summary>The key of a strategy at a budget ("bon@16", "greedy@-").</summary>
    public static string KeyOf(string strategy, int? budget) => $"{strategy}@{budget?.ToString(CultureInfo.InvariantCulture) ?? "-"}";

    /// <summary>The 95% Wilson score interval of the accuracy.</summary>
    public (double Low, double High) Interval => WilsonInterval.Of(Correct, Problems);

    public string ToCsv()
    {
        var (low, high) = Interval;
        return string.Join(",", Strategy, Budget?.ToString(CultureInfo.InvariantCulture) ?? "", Problems.ToString(CultureInfo.InvariantCulture),
            Graded ? Correct.ToString(CultureInfo.InvariantCulture) : "", Graded ? F(Accuracy) : "", Graded ? F(low) : "", Graded ? F(high) : "", MeanReward is double r ? F(r) : "",
            LmTokens.ToString(CultureInfo.InvariantCulture), LmCalls.ToString(CultureInfo.InvariantCulture), ScorerTokens.ToString(CultureInfo.InvariantCulture),
            ScorerCalls.ToString(CultureInfo.InvariantCulture), GeneratedTokens.ToString(CultureInfo.InvariantCulture),
            AcceptanceRate is double a ? F(a) : "", WallSeconds.ToString("F3", CultureInfo.InvariantCulture));
    }

    /// <summary>Parses a line <see cref="ToCsv"/> wrote; throws <see cref="FormatException"/> naming the line otherwise.</summary>
    public static CompareCell FromCsv(string line, int lineNumber, string file)
    {
        var f = line.Split(',');
        if (f.Length != CsvHeader.Split(',').Length) throw new FormatException($"{file} line {lineNumber}: expected {CsvHeader.Split(',').Length} fields, got {f.Length}.");
        try
        {
            return new CompareCell(f[0], f[1].Length == 0 ? null : I(f[1]), I(f[2]), f[3].Length == 0 ? 0 : I(f[3]), f[7].Length == 0 ? null : D(f[7]), L(f[8]), L(f[9]), L(f[10]), L(f[11]), L(f[12]),
                f[13].Length == 0 ? null : D(f[13]), D(f[14]), Graded: f[3].Length > 0);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{file} line {lineNumber}: {e.Message}");
        }

        static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
        static long L(string s) => long.Parse(s, CultureInfo.InvariantCulture);
        static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
    }

    /// <summary>Six decimals: enough for the figures, and the same text for the same value on every run.</summary>
    private static string F(double x) => x.ToString("F6", CultureInfo.InvariantCulture);
}
