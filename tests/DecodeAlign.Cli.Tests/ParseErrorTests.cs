namespace DecodeAlign.Cli.Tests;

/// <summary>Options the parser rejects get the same treatment as every other user error: one line naming the option, exit 2.</summary>
public sealed class ParseErrorTests
{
    [Theory]
    [InlineData("--seed", "-1", "whole number >= 0")]
    [InlineData("--temperature", "warm", "as a number")]
    [InlineData("--max-new-tokens", "1.5", "whole number")]
    public void An_unparsable_value_is_one_error_line_without_type_names(string option, string value, string expected)
    {
        var r = CliRunner.Run("generate", option, value, "--prompt", "x");
        CliRunner.AssertUserError(r, option, expected);
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("System.", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("Usage:", r.Stdout);
    }

    [Fact]
    public void An_unknown_option_is_one_error_line()
    {
        var r = CliRunner.Run("eval", "--nope");
        CliRunner.AssertUserError(r, "--nope");
        Assert.Equal(2, r.ExitCode);
    }

    [Theory]
    [InlineData("args", "--block-size", "-2", "block size must be >= 1")]
    [InlineData("args", "--top-k", "0", "top-k must be >= 1")]
    [InlineData("vas", "--top-k", "0", "top-k must be >= 1")]
    [InlineData("vas", "--beta", "Infinity", "beta must be > 0 and finite")]
    [InlineData("smc", "--block-size", "-2", "block size must be >= 1")]
    public void Every_strategy_checks_its_options_by_the_same_rule(string strategy, string option, string value, string expected)
    {
        var r = CliRunner.Run("generate", "--strategy", strategy, option, value, "--prompt", "x");
        CliRunner.AssertUserError(r, expected);
        Assert.Equal(2, r.ExitCode);
    }

    [Theory]
    [InlineData("generate", "sample", "0")]
    [InlineData("generate", "sample", "Infinity")]
    [InlineData("generate", "bon", "NaN")]
    [InlineData("eval", "sample", "0")]
    [InlineData("eval", "wmv", "Infinity")]
    [InlineData("compare", "sample", "0")]
    public void Temperature_gets_one_rule_and_one_piece_of_advice_on_every_verb(string verb, string strategy, string value)
    {
        // Before: Infinity said "must be >= 0 ... 0 means greedy" while 0 said "must be > 0", and eval ran sample at 0 as "greedy".
        var r = CliRunner.Run(verb, verb == "compare" ? "--strategies" : "--strategy", strategy, "--temperature", value, verb == "generate" ? "--prompt" : "--problems", "1");
        CliRunner.AssertUserError(r, "--temperature must be a finite number > 0", "use --strategy greedy");
        Assert.Equal(2, r.ExitCode);
    }

    [Theory]
    [InlineData("args", "Infinity")]
    [InlineData("tqstar", "-1")]
    public void Strategies_that_choose_among_candidates_accept_zero_but_not_infinity(string strategy, string value)
    {
        var r = CliRunner.Run("generate", "--strategy", strategy, "--temperature", value, "--prompt", "x");
        CliRunner.AssertUserError(r, "--temperature must be a finite number >= 0", "0 takes the best-scoring candidate");
    }

    [Fact]
    public void An_absurd_thread_count_fails_at_once_instead_of_hanging()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var r = CliRunner.Run("generate", "--threads", "100000", "--prompt", "x");
        CliRunner.AssertUserError(r, "--threads", "100000", "4 per logical processor");
        Assert.Equal(2, r.ExitCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }
}
