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
}
