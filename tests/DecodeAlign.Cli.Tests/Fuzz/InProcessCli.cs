namespace DecodeAlign.Cli.Tests.Fuzz;

/// <summary>
/// Runs one command line through the CLI's own entry (<c>Program.Run</c>) in this process, with console output captured
/// and a deadline: hundreds of cases fit in seconds this way, where a process each would take minutes.
/// </summary>
internal static class InProcessCli
{
    /// <summary>What a run did: exit code, output, whether the deadline cancelled it, and an exception that escaped the entry point.</summary>
    public sealed record Outcome(int? ExitCode, string Stdout, string Stderr, bool DeadlineFired, Exception? Escaped, bool Hung);

    /// <summary>
    /// Runs <paramref name="args"/>; the deadline cancels the run as SIGINT would, and a run still going
    /// <paramref name="grace"/> after that is reported as hung (it cannot be killed in-process, so the suite stops).
    /// </summary>
    public static Outcome Run(string[] args, TimeSpan deadline, TimeSpan grace)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        using var cts = new CancellationTokenSource();
        int? code = null;
        Exception? escaped = null;
        var thread = new Thread(() =>
        {
            try
            {
                code = Program.Run(args, cts.Token);
            }
            catch (Exception ex)
            {
                escaped = ex;
            }
        }, 16 << 20);
        Console.SetOut(TextWriter.Synchronized(stdout));
        Console.SetError(TextWriter.Synchronized(stderr));
        try
        {
            thread.Start();
            var fired = !thread.Join(deadline);
            if (fired) cts.Cancel();
            var hung = fired && !thread.Join(grace);
            return new Outcome(code, stdout.ToString(), stderr.ToString(), fired, escaped, hung);
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
