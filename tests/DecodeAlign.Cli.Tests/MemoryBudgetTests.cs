using System.Diagnostics;

namespace DecodeAlign.Cli.Tests;

/// <summary>Requests that cannot fit in memory fail before decoding, with the estimate and the options to change.</summary>
public sealed class MemoryBudgetTests
{
    [Theory]
    [InlineData("eval", "--strategy", "bon", "--n", "100000", "--problems", "3")]
    [InlineData("generate", "--prompt", "Q: 1+1?\nA:", "--num-samples", "100000000")]
    [InlineData("generate", "--prompt", "x", "--strategy", "deal", "--beams", "4000", "--memory-limit", "64")]
    [InlineData("compare", "--strategies", "sample,bon", "--budgets", "1,100000", "--problems", "2", "--out", "OUT")]
    public void A_request_over_the_memory_limit_fails_fast_with_the_estimate(params string[] args)
    {
        var outDir = Path.Combine(Directory.CreateTempSubdirectory("decodealign-budget-").FullName, "never-written");
        args = args.Select(a => a == "OUT" ? outDir : a).ToArray();
        var watch = Stopwatch.StartNew();
        var r = CliRunner.Run(args);
        CliRunner.AssertUserError(r, "GiB", "--memory-limit");
        Assert.Equal(2, r.ExitCode);
        // Process start and model loading included; without the check these ran for minutes and were killed at 24 GB.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.False(Directory.Exists(outDir), "a rejected compare wrote its output folder");
    }

    [Fact]
    public void A_request_within_the_limit_runs()
    {
        var r = CliRunner.Run("eval", "--strategy", "bon", "--n", "4", "--problems", "2", "--memory-limit", "256", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
    }
}
