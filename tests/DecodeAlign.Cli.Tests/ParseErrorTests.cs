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
}
