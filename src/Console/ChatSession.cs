using DecodeAlign.Chat;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>Everything one console session works with: the client and its models, the settings, the history and the terminal.</summary>
/// <param name="client">The chat client replies come from.</param>
/// <param name="bundle">The client's models, for loading rewards when /reward names one.</param>
/// <param name="modelDescription">What /show and the banner call the model.</param>
/// <param name="settings">What the next reply is asked with.</param>
/// <param name="history">The conversation so far.</param>
/// <param name="terminal">Where everything is written.</param>
internal sealed class ChatSession(IChatClient client, ModelBundle bundle, string modelDescription, ChatSettings settings, ChatHistory history, IAnsiConsole terminal)
{
    /// <summary>The chat client replies come from.</summary>
    public IChatClient Client { get; } = client;

    /// <summary>The loaded models; rewards named by /reward are loaded into it once and reused.</summary>
    public ModelBundle Bundle { get; } = bundle;

    /// <summary>What /show and the banner call the model.</summary>
    public string ModelDescription { get; } = modelDescription;

    /// <summary>What the next reply is asked with.</summary>
    public ChatSettings Settings { get; } = settings;

    /// <summary>The conversation so far.</summary>
    public ChatHistory History { get; } = history;

    /// <summary>Where everything is written (Spectre's console, so that colour is dropped where the output is not a terminal).</summary>
    public IAnsiConsole Terminal { get; } = terminal;

    /// <summary>The last question asked, which /compare reuses when given none.</summary>
    public string? LastQuestion { get; private set; }

    /// <summary>Set by /quit; the loop ends after the current line.</summary>
    public bool QuitRequested { get; set; }

    /// <summary>Answers <paramref name="question"/> with the current strategy, streaming the reply and then its stats line.</summary>
    public async Task AskAsync(string question, CancellationToken cancellationToken)
    {
        LastQuestion = question;
        var writer = new StreamingReplyWriter(Terminal, Settings.Strategy.Name);
        Reply reply;
        try
        {
            reply = await ReplyRunner.RunAsync(Client, History.Ask(question), Settings.For(Settings.Strategy), writer.Progress, writer.Text, cancellationToken);
        }
        catch
        {
            writer.Abort();
            throw;
        }
        writer.Finish();
        Terminal.Note("  " + reply.StatsLine());
        History.Record(question, reply.Text);
    }

    /// <summary>Remembers a question asked through /compare, so that a following bare /compare asks it again.</summary>
    public void Remember(string question) => LastQuestion = question;
}
