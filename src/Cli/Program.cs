using System.CommandLine;
using DecodeAlign.Cli.Commands;

namespace DecodeAlign.Cli;

/// <summary>The <c>decodealign</c> command: one verb per file under Commands/.</summary>
public static class Program
{
    /// <summary>Builds the command tree (tests invoke it in-process).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("DecodeAlign: inference-time alignment of language models (best-of-N, ARGS, VAS, QAlign, SMC, DeAL, Transfer Q*) on ONNX Runtime.");
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(StrategiesCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(RmBenchCommand.Create());
        root.Subcommands.Add(ImportLlama2cCommand.Create());
        root.Subcommands.Add(TaskDumpCommand.Create());
        return root;
    }

    /// <summary>Entry point: user errors print one line to stderr and exit 2, without a stack trace; SIGINT/SIGTERM exit 130/143.</summary>
    public static int Main(string[] args)
    {
        using var signals = new CliSignals();
        return Run(args, signals.Token, () => signals.ExitCode);
    }

    /// <summary>
    /// Runs one command line with <paramref name="ct"/> as the run's cancellation (tests pass their own deadline);
    /// <paramref name="cancelledExitCode"/> gives the exit code of a cancelled run.
    /// </summary>
    internal static int Run(string[] args, CancellationToken ct, Func<int>? cancelledExitCode = null) =>
        CliErrors.Run(() =>
        {
            var parsed = BuildRoot().Parse(args);
            // A parse error is a user error like any other: one line naming the option, exit 2, not the whole help text.
            if (parsed.Errors.Count > 0) throw new CliUsageException(CliErrors.ParseMessage(parsed.Errors[0].Message));
            var code = parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, ct)
                .GetAwaiter().GetResult();
            return code == CliErrors.Cancelled && cancelledExitCode is not null ? cancelledExitCode() : code;
        }, cancelledExitCode);
}
