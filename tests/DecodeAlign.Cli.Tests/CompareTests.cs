using System.Diagnostics;
using System.Text.Json;
using DecodeAlign.Cli.Compare;

namespace DecodeAlign.Cli.Tests;

/// <summary>`decodealign compare`: the quick run CI relies on, plots, resuming after SIGINT, and bad input rejected first.</summary>
public sealed class CompareTests
{
    private static string TempDir() => Directory.CreateTempSubdirectory("decodealign-compare-").FullName;

    [Fact]
    public void The_quick_run_writes_every_file_and_every_requested_strategy()
    {
        var dir = Path.Combine(TempDir(), "quick");
        var r = CliRunner.Run("compare", "--quick", "--out", dir);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        var cells = new CompareResults(dir).Read();
        foreach (var e in DecodeAlign.Decoding.StrategyCatalog.All)
            Assert.Contains(cells, c => c.Strategy == e.Name);
        // Strategies with a budget get one cell per budget (1 and 2), baselines one.
        Assert.Equal(DecodeAlign.Decoding.StrategyCatalog.All.Sum(e => e.BudgetOption is null ? 1 : 2), cells.Count);
        Assert.All(cells, c => Assert.Equal(10, c.Problems));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        Assert.Equal(cells.Count, json.RootElement.GetProperty("cells").GetArrayLength());
        Assert.Contains("| qalign | 2 |", File.ReadAllText(Path.Combine(dir, "results.md")));
        foreach (var plot in new[] { "accuracy-vs-lm-tokens", "reward-vs-accuracy", "qalign-acceptance" })
        {
            Assert.True(new FileInfo(Path.Combine(dir, plot + ".png")).Length > 10_000, plot);
            Assert.True(File.Exists(Path.Combine(dir, plot + ".svg")), plot);
        }
    }

    [Fact]
    public void Plots_have_their_size_and_a_series_for_every_strategy()
    {
        var dir = TempDir();
        CompareCell Cell(string s, int? b, int correct, double reward, long tokens, double? acceptance = null) =>
            new(s, b, 20, correct, reward, tokens, 10, tokens / 2, 5, tokens, acceptance, 1.0);
        CompareCell[] cells =
        [
            Cell("sample", null, 8, -1.5, 900),
            Cell("bon", 2, 10, 0.1, 1500), Cell("bon", 8, 12, 1.2, 5000), Cell("bon", 32, 11, 1.9, 19000),
            Cell("qalign", 2, 9, 0.0, 1800, 0.8), Cell("qalign", 8, 12, 0.7, 6000, 0.6), Cell("qalign", 32, 14, 1.1, 21000, 0.55),
        ];
        var written = ComparePlots.Write(cells, dir);
        Assert.Equal(3, written.Count);
        foreach (var stem in written)
        {
            var png = File.ReadAllBytes(stem + ".png");
            // PNG: the IHDR chunk holds width and height, big-endian, at bytes 16 and 20.
            Assert.Equal(ComparePlots.Width, (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19]);
            Assert.Equal(ComparePlots.Height, (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23]);
        }
        // ScottPlot draws text as outlines, so the series are checked on the plots themselves: one per strategy, each in its own colour.
        static string[] Series(ScottPlot.Plot plot) => plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Select(x => x.LegendText).ToArray();
        Assert.Equal(["sample", "bon", "qalign"], Series(ComparePlots.AccuracyVsCompute(cells)));
        Assert.Equal(["sample", "bon", "qalign"], Series(ComparePlots.RewardVsAccuracy(cells)));
        Assert.Equal(["qalign"], Series(ComparePlots.Acceptance(cells)));
        var colours = ComparePlots.AccuracyVsCompute(cells).GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Select(x => x.Color).ToArray();
        Assert.Equal(colours.Length, colours.Distinct().Count());
    }

    [Fact]
    public async Task An_interrupted_run_resumes_to_the_same_results_as_an_uninterrupted_one()
    {
        string[] args = ["compare", "--strategies", "sample,bon,smc,qalign", "--budgets", "1,2,4", "--problems", "8"];
        var whole = Path.Combine(TempDir(), "whole");
        Assert.Equal(0, CliRunner.Run([.. args, "--out", whole]).ExitCode);

        var broken = Path.Combine(TempDir(), "broken");
        using var p = Process.Start(CliRunner.StartInfo([.. args, "--out", broken]))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var csv = Path.Combine(broken, "results.csv");
        var deadline = Stopwatch.StartNew();
        while (!p.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(2) && (!File.Exists(csv) || File.ReadAllLines(csv).Length < 4)) Thread.Sleep(20);
        Assert.False(p.HasExited, "the run finished before it could be interrupted");
        Process.Start("kill", ["-INT", p.Id.ToString()])!.WaitForExit();
        Assert.True(p.WaitForExit(30_000), "no exit after SIGINT");
        Assert.Equal(130, p.ExitCode);
        Assert.DoesNotContain("   at ", await stderr);
        var partial = new CompareResults(broken).Read();
        Assert.InRange(partial.Count, 3, 9);

        Assert.Equal(0, CliRunner.Run([.. args, "--out", broken, "--resume"]).ExitCode);
        // Every figure but the wall time is deterministic: the files agree once that column is set aside.
        static string[] WithoutWall(string dir) => File.ReadAllLines(Path.Combine(dir, "results.csv")).Select(l => l[..l.LastIndexOf(',')]).ToArray();
        Assert.Equal(WithoutWall(whole), WithoutWall(broken));
        _ = await stdout;
    }

    [Theory]
    [InlineData("--strategies", "bon,nope", "unknown strategy 'nope'")]
    [InlineData("--budgets", "1,0", "--budgets")]
    [InlineData("--budgets", "-3", "--budgets")]
    [InlineData("--problems", "0", "--problems")]
    public void Bad_input_is_rejected_before_any_model_runs(string option, string value, string message)
    {
        var dir = Path.Combine(TempDir(), "bad");
        var r = CliRunner.Run("compare", option, value, "--out", dir);
        CliRunner.AssertUserError(r, message);
        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(dir), "an output folder was created for a rejected run");
    }

    [Fact]
    public void An_existing_run_is_not_overwritten_without_resume_and_a_resume_must_match_it()
    {
        var dir = Path.Combine(TempDir(), "run");
        Assert.Equal(0, CliRunner.Run("compare", "--strategies", "greedy", "--problems", "2", "--out", dir).ExitCode);
        CliRunner.AssertUserError(CliRunner.Run("compare", "--strategies", "greedy", "--problems", "2", "--out", dir), "--resume");
        CliRunner.AssertUserError(CliRunner.Run("compare", "--strategies", "greedy", "--problems", "3", "--out", dir, "--resume"), "problems");
    }

    [Fact]
    public void Your_own_prompts_are_compared_with_accuracy_only_where_every_prompt_has_an_answer()
    {
        var dir = TempDir();
        var graded = Path.Combine(dir, "graded.jsonl");
        File.WriteAllLines(graded,
        [
            """{"prompt": "Q: Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?\nA:", "answer": "60"}""",
            """{"prompt": "Q: Lucy has 3 coins. She buys 2 more coins. How many coins does Lucy have now?\nA:", "answer": 5}""",
        ]);
        var r = CliRunner.Run("compare", "--prompts", graded, "--strategies", "greedy,bon", "--budgets", "2", "--answer-regex", "answer is (-?[0-9]+)", "--out", Path.Combine(dir, "a"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var cells = new CompareResults(Path.Combine(dir, "a")).Read();
        Assert.All(cells, c => Assert.True(c.Graded && c.Problems == 2));
        Assert.Equal(2, cells.Single(c => c.Strategy == "greedy").Correct); // the greedy answers are 60 and 5

        var ungraded = Path.Combine(dir, "ungraded.jsonl");
        File.WriteAllLines(ungraded, ["""{"prompt": "Q: Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?\nA:"}"""]);
        Assert.Equal(0, CliRunner.Run("compare", "--prompts", ungraded, "--strategies", "bon", "--budgets", "2", "--out", Path.Combine(dir, "b")).ExitCode);
        var line = File.ReadAllLines(Path.Combine(dir, "b", "results.csv"))[1].Split(',');
        Assert.Equal(["", "", "", ""], line[3..7]); // no accuracy without answers
        Assert.NotEqual("", line[7]); // but the reward is there

        var bad = Path.Combine(dir, "bad.jsonl");
        File.WriteAllLines(bad, ["""{"prompt": "x"}""", """{"answer": "3"}"""]);
        CliRunner.AssertUserError(CliRunner.Run("compare", "--prompts", bad, "--out", Path.Combine(dir, "c")), "line 2", "prompt");
    }
}
