using System.Globalization;
using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>/show: what the next reply will be asked with, including which kept options the current strategy ignores.</summary>
internal static class SettingsView
{
    /// <summary>Writes the settings as a two-column table.</summary>
    public static void Write(ChatSession session)
    {
        var s = session.Settings;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("setting").AddColumn("value");
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("model", session.ModelDescription);
        Row("strategy", $"{s.Strategy.Name}: {s.Strategy.Summary}");
        Row("reward", ChatCommands.RewardSettingText(session));
        Row("history", session.History.MultiTurn ? $"multi-turn, {session.History.Turns} turns kept" : "single-turn (each question alone)");
        Row("seed", s.Seed?.ToString(CultureInfo.InvariantCulture) ?? "default (0: replies are reproducible)");
        Row("temperature", s.Temperature?.ToString(CultureInfo.InvariantCulture) ?? "default");
        Row("top-p", s.TopP?.ToString(CultureInfo.InvariantCulture) ?? "default (1)");
        Row("max-tokens", s.MaxOutputTokens?.ToString(CultureInfo.InvariantCulture) ?? "default");
        foreach (var option in s.Strategy.Options)
            Row($"{option.Name} ({s.Strategy.Name})", s.StrategyOptions.TryGetValue(option.Name, out var v) ? v : $"{(option.Default.Length > 0 ? option.Default : "none")} (default)");
        foreach (var name in s.NotReadBy(s.Strategy))
            table.AddRow($"[dim]{Markup.Escape(name)}[/]", $"[dim]{Markup.Escape(s.StrategyOptions[name])} (kept; not read by {Markup.Escape(s.Strategy.Name)})[/]");
        session.Terminal.Write(table);
    }
}
