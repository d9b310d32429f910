using DecodeAlign.Decoding;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// /compare: one question, several strategies, one table. The strategies run one after another, not concurrently, so
/// that each one's time is its own on a machine with few cores.
/// </summary>
internal static class StrategyComparison
{
    /// <summary>Runs "/compare s1,s2[,s3] [QUESTION]"; each strategy gets the current settings it reads, and the question is asked alone (no history).</summary>
    public static async Task RunAsync(ChatSession session, string arguments, CancellationToken cancellationToken)
    {
        var (list, question) = ChatCommands.SplitFirst(arguments);
        if (list.Length == 0) throw new ArgumentException("usage: /compare s1,s2[,s3] QUESTION (strategies separated by commas, no spaces)");
        var entries = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(StrategyCatalog.Get).ToList();
        if (entries.Select(e => e.Name).Distinct().Count() != entries.Count) throw new ArgumentException("/compare: a strategy is named twice");
        if (question.Length == 0) question = session.LastQuestion ?? throw new ArgumentException("/compare needs a question (no question has been asked yet)");
        session.Remember(question);

        var rows = new List<(StrategyEntry Entry, Reply? Reply, string? Error)>();
        foreach (var entry in entries)
        {
            try
            {
                var reply = await ReplyRunner.RunAsync(session.Client, [new ChatMessage(ChatRole.User, question)], session.Settings.For(entry), null, null, cancellationToken);
                rows.Add((entry, reply, null));
                session.Terminal.Note($"  {entry.Name}: done in {reply.TimeText}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One strategy's failure (a missing potential, an option out of range) should not hide the others' answers.
                rows.Add((entry, null, e.Message));
                session.Terminal.Note($"  {entry.Name}: failed");
            }
        }

        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(question)}[/]")
            .AddColumn("strategy").AddColumn("answer")
            .AddColumn(new TableColumn("reward").RightAligned()).AddColumn(new TableColumn("tokens computed").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned()).AddColumn(new TableColumn("acceptance").RightAligned());
        foreach (var (entry, reply, error) in rows)
        {
            if (reply is null)
            {
                table.AddRow(Markup.Escape(entry.Name), $"[red]error: {Markup.Escape(error ?? "")}[/]", "-", "-", "-", "-");
                continue;
            }
            table.AddRow(
                $"[cyan]{Markup.Escape(entry.Name)}[/]",
                Markup.Escape(reply.Text.Length > 0 ? reply.Text : "(empty)"),
                reply.RewardText,
                $"{reply.TokensComputed} [dim](LM {reply.LmTokens} + scorer {reply.ScorerTokens})[/]",
                reply.TimeText,
                reply.AcceptanceText);
        }
        session.Terminal.Write(table);
    }
}
