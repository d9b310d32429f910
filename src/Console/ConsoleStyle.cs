using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>The console's few line styles, kept in one place so that errors and notes look the same from every command.</summary>
internal static class ConsoleStyle
{
    /// <summary>One red line; the loop goes on, so an error never costs the loaded models.</summary>
    public static void Error(this IAnsiConsole console, string message) => console.MarkupLine($"[red]error: {Markup.Escape(message)}[/]");

    /// <summary>A dim line for confirmations and stats: present when wanted, easy to skip when not.</summary>
    public static void Note(this IAnsiConsole console, string message) => console.MarkupLine($"[dim]{Markup.Escape(message)}[/]");

    /// <summary>A yellow line for things that went differently than asked (a cancelled reply).</summary>
    public static void Warn(this IAnsiConsole console, string message) => console.MarkupLine($"[yellow]{Markup.Escape(message)}[/]");
}
