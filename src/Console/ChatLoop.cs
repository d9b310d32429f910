using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// The prompt loop: a line is a question or a slash command. Every failure ends in one red line and a new prompt,
/// because restarting means loading the models again.
/// </summary>
internal sealed class ChatLoop(ChatSession session, CtrlCHandler ctrlC)
{
    /// <summary>Reads lines until /quit or end of input (Ctrl+D); returns the exit code.</summary>
    public async Task<int> RunAsync()
    {
        var terminal = session.Terminal;
        while (!session.QuitRequested)
        {
            terminal.Markup("[bold green]you>[/] ");
            // Console.ReadLine, not a Spectre prompt: it returns null on Ctrl+D and reads piped input line by line.
            var line = Console.ReadLine();
            if (line is null)
            {
                terminal.WriteLine();
                return 0;
            }
            // Piped input is not echoed by a terminal; writing it keeps a transcript readable.
            if (Console.IsInputRedirected) terminal.WriteLine(line);
            line = line.Trim();
            if (line.Length == 0) continue;
            using var work = ctrlC.Begin();
            try
            {
                if (line.StartsWith('/')) await ChatCommands.RunAsync(session, line, work.Token);
                else await session.AskAsync(line, work.Token);
            }
            catch (OperationCanceledException) when (work.Token.IsCancellationRequested)
            {
                terminal.Warn("cancelled");
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or NotSupportedException)
            {
                terminal.Error(e.Message);
            }
            catch (Exception e)
            {
                // Not a user mistake, so the type is worth seeing; still one line, and the models stay loaded.
                terminal.Error($"{e.GetType().Name}: {e.Message}");
            }
        }
        return 0;
    }
}
