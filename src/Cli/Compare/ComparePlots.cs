using ScottPlot;

namespace DecodeAlign.Cli.Compare;

/// <summary>
/// The comparison's pictures (ScottPlot, PNG and SVG): accuracy against tokens computed (log x; the LM's plus those of
/// Transfer Q*'s baseline policy, which is an LM too, and of the scorers) per strategy; mean
/// reward against accuracy per strategy, the over-optimisation picture (a reward that keeps rising while accuracy does
/// not); QAlign's acceptance rate against its steps.
/// </summary>
internal static class ComparePlots
{
    public const int Width = 900, Height = 560;

    /// <summary>Writes every plot the cells allow into <paramref name="folder"/>; returns the files written (without extension).</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<CompareCell> cells, string folder)
    {
        var written = new List<string>();
        // Accuracy needs answers: prompts without them get the acceptance plot only.
        var graded = cells.Where(c => c.Graded).ToArray();
        if (graded.Length > 0) Save(AccuracyVsCompute(graded), Path.Combine(folder, "accuracy-vs-lm-tokens"), written);
        if (graded.Any(c => c.MeanReward is not null)) Save(RewardVsAccuracy(graded), Path.Combine(folder, "reward-vs-accuracy"), written);
        if (cells.Any(c => c.AcceptanceRate is not null)) Save(Acceptance(cells), Path.Combine(folder, "qalign-acceptance"), written);
        return written;
    }

    private static void Save(Plot plot, string stem, List<string> written)
    {
        plot.SavePng(stem + ".png", Width, Height);
        plot.SaveSvg(stem + ".svg", Width, Height);
        written.Add(stem);
    }

    private static IEnumerable<IGrouping<string, CompareCell>> ByStrategy(IReadOnlyList<CompareCell> cells) =>
        cells.GroupBy(c => c.Strategy);

    /// <summary>A plot with a palette wide enough that eleven strategies get eleven colours.</summary>
    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category20();
        return plot;
    }

    public static Plot AccuracyVsCompute(IReadOnlyList<CompareCell> cells)
    {
        var plot = NewPlot();
        foreach (var g in ByStrategy(cells))
        {
            var points = g.Where(c => c.LmTokens + c.ScorerTokens > 0).OrderBy(c => c.LmTokens + c.ScorerTokens).ToArray();
            var s = plot.Add.Scatter(points.Select(c => Math.Log10(c.LmTokens + c.ScorerTokens)).ToArray(), points.Select(c => 100 * c.Accuracy).ToArray());
            s.LegendText = g.Key;
            s.MarkerSize = 7;
        }
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = x => Math.Pow(10, x).ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.XLabel("tokens computed: LM, baseline policy and scorers (log scale)");
        plot.YLabel("accuracy (%)");
        plot.Title("Accuracy against compute");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    public static Plot RewardVsAccuracy(IReadOnlyList<CompareCell> cells)
    {
        var plot = NewPlot();
        foreach (var g in ByStrategy(cells))
        {
            var points = g.Where(c => c.MeanReward is not null).OrderBy(c => c.Budget ?? 0).ToArray();
            if (points.Length == 0) continue;
            var s = plot.Add.Scatter(points.Select(c => c.MeanReward!.Value).ToArray(), points.Select(c => 100 * c.Accuracy).ToArray());
            s.LegendText = g.Key;
            s.MarkerSize = 7;
        }
        plot.XLabel("mean reward of the returned responses");
        plot.YLabel("accuracy by the checker (%)");
        plot.Title("Reward against oracle accuracy (budget grows along each line)");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    public static Plot Acceptance(IReadOnlyList<CompareCell> cells)
    {
        var plot = NewPlot();
        foreach (var g in ByStrategy(cells))
        {
            var points = g.Where(c => c.AcceptanceRate is not null && c.Budget is not null).OrderBy(c => c.Budget).ToArray();
            if (points.Length == 0) continue;
            var s = plot.Add.Scatter(points.Select(c => (double)c.Budget!.Value).ToArray(), points.Select(c => 100 * c.AcceptanceRate!.Value).ToArray());
            s.LegendText = g.Key;
            s.MarkerSize = 7;
        }
        plot.XLabel("MCMC steps");
        plot.YLabel("acceptance rate (%)");
        plot.Title("QAlign acceptance rate");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
