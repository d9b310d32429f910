namespace DecodeAlign.ChatConsole;

/// <summary>
/// Gives Ctrl+C its two meanings: while a reply (or any command) runs it cancels that work and the prompt returns; at
/// the prompt it leaves the console with exit code 0. Without this the runtime's default would kill the process with
/// SIGINT's status mid-reply and throw away the loaded models.
/// </summary>
internal sealed class CtrlCHandler : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Action _exitAtPrompt;
    private CancellationTokenSource? _running;

    /// <summary>Starts handling Ctrl+C; <paramref name="exitAtPrompt"/> runs when it is pressed with nothing running and must not return.</summary>
    public CtrlCHandler(Action exitAtPrompt)
    {
        _exitAtPrompt = exitAtPrompt;
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    /// <summary>Marks work as running until the returned scope is disposed; Ctrl+C meanwhile cancels its token.</summary>
    public Scope Begin()
    {
        var cts = new CancellationTokenSource();
        lock (_lock) _running = cts;
        return new Scope(this, cts);
    }

    private void End(CancellationTokenSource cts)
    {
        lock (_lock)
            if (ReferenceEquals(_running, cts)) _running = null;
        cts.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true; // never the runtime's default: it would end the process with SIGINT's status
        CancellationTokenSource? running;
        lock (_lock) running = _running;
        if (running is null)
        {
            _exitAtPrompt();
            return;
        }
        try
        {
            running.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The work ended between the lookup and the cancel: nothing left to stop.
        }
    }

    /// <inheritdoc />
    public void Dispose() => Console.CancelKeyPress -= OnCancelKeyPress;

    /// <summary>Running work: its token is cancelled by Ctrl+C until it is disposed.</summary>
    internal sealed class Scope(CtrlCHandler owner, CancellationTokenSource cts) : IDisposable
    {
        /// <summary>Cancelled when the user presses Ctrl+C during the work.</summary>
        public CancellationToken Token { get; } = cts.Token;

        /// <inheritdoc />
        public void Dispose() => owner.End(cts);
    }
}
