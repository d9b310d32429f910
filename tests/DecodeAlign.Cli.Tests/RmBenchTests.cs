using System.Text.Json;

namespace DecodeAlign.Cli.Tests;

/// <summary>`decodealign rm-bench`: pairwise accuracy from a pairs file and from graded samples; bad files named by line.</summary>
public sealed class RmBenchTests
{
    private static string PairsFile(params string[] lines)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("decodealign-rmbench-").FullName, "pairs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string Line(string chosen, string rejected, string subset) =>
        JsonSerializer.Serialize(new { prompt = "Q: Sam has 2 pens. He buys 3 more pens. How many pens does Sam have now?\nA:", chosen, rejected, subset });

    [Fact]
    public void A_calculator_reward_ranks_right_equations_over_wrong_ones_per_subset()
    {
        const string right = " Sam has 2 pens. 2 + 3 = 5. The answer is 5.", wrong = " Sam has 2 pens. 2 + 3 = 6. The answer is 6.";
        var file = PairsFile(Line(right, wrong, "a"), Line(right, wrong, "a"), Line(wrong, right, "b"), Line(right, right, "b"));
        var r = CliRunner.Run("rm-bench", "--reward", "calc", "--pairs", file, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var e = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(4, e.GetProperty("pairs").GetInt32());
        Assert.Equal(2.5 / 4, e.GetProperty("overall").GetProperty("accuracy").GetDouble(), 9); // 1 + 1 + 0 + ½ (a tie)
        Assert.Equal(1.0, e.GetProperty("subsets").GetProperty("a").GetProperty("accuracy").GetDouble());
        Assert.Equal(0.25, e.GetProperty("subsets").GetProperty("b").GetProperty("accuracy").GetDouble());
        var a = e.GetProperty("subsets").GetProperty("a");
        Assert.InRange(a.GetProperty("ci_low").GetDouble(), 0.1, 0.99);
    }

    [Fact]
    public void Pairs_from_graded_samples_give_the_verifier_a_high_accuracy()
    {
        var r = CliRunner.Run("rm-bench", "--task", "arith", "--problems", "40", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var e = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.True(e.GetProperty("pairs").GetInt32() > 10);
        Assert.InRange(e.GetProperty("overall").GetProperty("accuracy").GetDouble(), 0.7, 1.0);
        Assert.True(e.GetProperty("subsets").EnumerateObject().Count() >= 2);
    }

    [Fact]
    public void A_malformed_line_is_named()
    {
        var file = PairsFile(Line("a", "b", "x"), "{\"prompt\": \"p\", \"chosen\": \"c\"}");
        CliRunner.AssertUserError(CliRunner.Run("rm-bench", "--reward", "calc", "--pairs", file), "line 2", "rejected");
        CliRunner.AssertUserError(CliRunner.Run("rm-bench", "--reward", "calc"), "--pairs");
    }
}
