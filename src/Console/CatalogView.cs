using DecodeAlign.Decoding;
using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>/strategies: the catalog as a table, read from <see cref="StrategyCatalog"/> so that a strategy added there shows up here unchanged.</summary>
internal static class CatalogView
{
    /// <summary>Writes one row per strategy; the current one is marked.</summary>
    public static void Write(ChatSession session)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("strategy").AddColumn("summary").AddColumn("needs").AddColumn("options");
        foreach (var e in StrategyCatalog.All)
        {
            var current = e.Name == session.Settings.Strategy.Name;
            var needs = e.Requires.Count == 0 ? "-" : string.Join(", ", e.Requires);
            if (e.Uses.Count > 0) needs += $" (uses {string.Join(", ", e.Uses)})";
            table.AddRow(
                current ? $"[bold green]{Markup.Escape(e.Name)} *[/]" : Markup.Escape(e.Name),
                Markup.Escape(e.Summary),
                Markup.Escape(needs),
                Markup.Escape(string.Join(", ", e.Options.Select(o => o.Name))));
        }
        session.Terminal.Write(table);
        session.Terminal.Note("* current strategy. /set OPTION VALUE sets an option; /n and /beta are shortcuts.");
    }
}
