using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// Writes one reply as it streams: a label, then the text straight to the terminal. Not a Spectre live display: text
/// appended in place scrolls, copies and logs like any program's output (tmux, a pipe, a dumb terminal), and Spectre's
/// own wrapping would break lines it cannot see the start of.
/// </summary>
internal sealed class StreamingReplyWriter(IAnsiConsole console, string label)
{
    private bool _labelWritten;
    private bool _progressShown;
    private bool _anyText;
    private string _pendingWhitespace = "";

    /// <summary>
    /// Shows what a strategy that chooses at the end is doing, on its own dim line before the reply. The client repeats
    /// the update twice a second; one line is enough here (a transcript should not fill with heartbeats).
    /// </summary>
    public void Progress(string message)
    {
        if (_labelWritten || _progressShown) return;
        console.MarkupLine($"[dim]{Markup.Escape(message)} ...[/]");
        _progressShown = true;
    }

    /// <summary>
    /// Appends streamed text. Leading whitespace is dropped and trailing whitespace held back until more text follows:
    /// templates answer after "A:" with a space and end on a newline, and neither should shift or pad the reply.
    /// </summary>
    public void Text(string delta)
    {
        var text = _pendingWhitespace + Printable(delta);
        if (!_anyText) text = text.TrimStart();
        var body = text.TrimEnd();
        _pendingWhitespace = text[body.Length..];
        if (body.Length == 0) return;
        WriteLabel();
        console.Profile.Out.Writer.Write(body);
        console.Profile.Out.Writer.Flush();
        _anyText = true;
    }

    /// <summary>Ends the reply's line (an empty reply still gets its label, so every reply is visible).</summary>
    public void Finish()
    {
        WriteLabel();
        if (!_anyText) console.Markup("[dim](empty reply)[/]");
        console.WriteLine();
    }

    /// <summary>Ends a reply cut short, so the next message starts on a fresh line.</summary>
    public void Abort()
    {
        if (_labelWritten) console.WriteLine();
    }

    private void WriteLabel()
    {
        if (_labelWritten) return;
        console.Markup($"[bold cyan]{Markup.Escape(label)}>[/] ");
        _labelWritten = true;
    }

    /// <summary>Model text is untrusted: control characters (an escape sequence, a bell) would drive the terminal, so only newlines and tabs pass.</summary>
    private static string Printable(string text) =>
        text.Any(c => char.IsControl(c) && c is not '\n' and not '\t') ? new string(text.Where(c => !char.IsControl(c) || c is '\n' or '\t').ToArray()) : text;
}
