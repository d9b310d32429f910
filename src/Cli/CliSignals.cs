using System.Runtime.InteropServices;

namespace DecodeAlign.Cli;

/// <summary>
/// SIGINT and SIGTERM for one CLI run: the first cancels the run's token (the verb stops within one decoding step and
/// prints what finished, marked cancelled); a second one terminates at once, as the shell's default would.
/// </summary>
/// <remarks>
/// System.CommandLine's own termination handler is switched off: it raced with the run finishing and threw
/// <see cref="InvalidOperationException"/> from <c>ProcessTerminationHandler.Cancel</c>, and it cannot tell SIGINT from SIGTERM.
/// </remarks>
internal sealed class CliSignals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signal;

    public CliSignals()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>The shell's exit code for the signal that cancelled the run: 130 for SIGINT, 143 for SIGTERM (128 + its number).</summary>
    public int ExitCode => Volatile.Read(ref _signal) == 15 ? CliErrors.Terminated : CliErrors.Cancelled;

    private void OnSignal(PosixSignalContext context)
    {
        // A second signal falls through to the default action: the user asked twice, so stop now.
        if (Interlocked.CompareExchange(ref _signal, context.Signal == PosixSignal.SIGTERM ? 15 : 2, 0) != 0) return;
        context.Cancel = true;
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
