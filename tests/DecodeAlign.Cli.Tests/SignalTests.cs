namespace DecodeAlign.Cli.Tests;

/// <summary>
/// SIGINT and SIGTERM cancel within one decoding step, print what finished marked cancelled, exit 130 / 143 and never
/// print a stack trace (issue 11: 4 of 6 runs of generate --strategy bon + SIGINT crashed in System.CommandLine's
/// termination handler; qalign reported a truncated chain as EndOfSequence with exit 0).
/// </summary>
public sealed class SignalTests
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    /// <summary>Long enough that the signal always lands mid-decoding: 256 candidates of 160 tokens each.</summary>
    private static readonly string[] LongBon = ["generate", "--prompt", "Q: 12+7?\nA:", "--strategy", "bon", "--n", "256", "--max-new-tokens", "160", "--ignore-eos", "--json"];

    [Theory]
    [InlineData(SigInt, 130, 1500)]
    [InlineData(SigInt, 130, 2500)]
    [InlineData(SigInt, 130, 3500)]
    [InlineData(SigTerm, 143, 1500)]
    [InlineData(SigTerm, 143, 2500)]
    [InlineData(SigTerm, 143, 3500)]
    public void A_signal_during_best_of_n_cancels_cleanly(int signal, int exitCode, int afterMs)
    {
        using var cli = new RunningCli(LongBon);
        Thread.Sleep(afterMs);
        cli.Signal(signal);
        var r = cli.Wait(TimeSpan.FromSeconds(30));
        Assert.Equal(exitCode, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Unhandled", r.Stderr);
        Assert.Contains("\"finish_reason\": \"Cancelled\"", r.Stdout);
    }

    [Fact]
    public void A_cancelled_qalign_chain_is_marked_cancelled_not_complete()
    {
        using var cli = new RunningCli("generate", "--prompt", "Q: 12+7?\nA:", "--strategy", "qalign", "--n", "100000", "--json");
        Thread.Sleep(3000);
        cli.Signal(SigInt);
        var r = cli.Wait(TimeSpan.FromSeconds(30));
        Assert.Equal(130, r.ExitCode);
        Assert.Contains("\"finish_reason\": \"Cancelled\"", r.Stdout);
        Assert.DoesNotContain("EndOfSequence", r.Stdout);
    }

    [Fact]
    public void A_cancelled_eval_reports_the_problems_that_finished_and_streams_them()
    {
        // 100 million problems: built all at once this took 1.5 GB in 8 s; streamed, memory stays at the model's size.
        using var cli = new RunningCli("eval", "--strategy", "greedy", "--problems", "100000000", "--json");
        Thread.Sleep(5000);
        var peak = cli.PeakResidentBytes();
        cli.Signal(SigTerm);
        var r = cli.Wait(TimeSpan.FromSeconds(30));
        Assert.Equal(143, r.ExitCode);
        Assert.Contains("\"cancelled\": true", r.Stdout);
        Assert.Contains("cancelled: partial result", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        if (peak is long bytes) Assert.True(bytes < 600L << 20, $"peak resident memory {bytes >> 20} MiB after 5 s");
    }
}
