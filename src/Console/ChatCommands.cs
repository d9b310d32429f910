using DecodeAlign.Chat;
using DecodeAlign.Decoding;
using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary>The slash commands. Each one either changes <see cref="ChatSettings"/> or shows something; none talks to a model except /compare (and /reward, which loads the reward it names).</summary>
internal static class ChatCommands
{
    /// <summary>Every command, in the order /help lists them.</summary>
    public static IReadOnlyList<ChatCommand> All { get; } =
    [
        new("strategy", "NAME", "switch strategy; kept options apply wherever the new strategy reads them", Strategy),
        new("n", "N", "compute budget: candidates (bon, mv, wmv), MCMC steps (qalign), particles (smc)", (s, a, _) => SetOption(s, "n", a)),
        new("beta", "B", "beta: reward temperature (qalign, smc), vote softmax (bon family), value weight (vas)", (s, a, _) => SetOption(s, "beta", a)),
        new("reward", "SPEC | default", $"reward for later replies: {RewardSpec.Names}, name=weight sums, or a model folder", Reward),
        new("set", "OPTION VALUE", "any strategy option (see /strategies), or seed, temperature, top-p, max-tokens", Set),
        new("unset", "OPTION", "back to the default of an option set with /set, /n or /beta", Unset),
        new("show", "", "current settings: strategy, reward, options in effect and kept", (s, _, _) => Done(() => SettingsView.Write(s))),
        new("strategies", "", "the strategy catalog: name, summary, what each needs, the options it reads", (s, _, _) => Done(() => CatalogView.Write(s))),
        new("compare", "S1,S2[,S3] [QUESTION]", "answer one question (default: the last one) with several strategies, side by side", StrategyComparison.RunAsync),
        new("history", "on | off", "multi-turn (earlier turns are sent along) or single-turn (each question alone)", History),
        new("reset", "", "forget the chat history", (s, _, _) => Done(() => { s.History.Reset(); s.Terminal.Note("history cleared"); })),
        new("help", "", "this list", (s, _, _) => Done(() => Help(s))),
        new("quit", "", "leave (Ctrl+D, or Ctrl+C at the prompt, too)", (s, _, _) => Done(() => s.QuitRequested = true)),
    ];

    /// <summary>Runs the command <paramref name="line"/> names ("/name arguments").</summary>
    public static Task RunAsync(ChatSession session, string line, CancellationToken cancellationToken)
    {
        var (name, arguments) = SplitFirst(line.TrimStart('/'));
        name = name.ToLowerInvariant();
        if (name == "exit") name = "quit";
        var command = All.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"unknown command /{name}; /help lists the commands");
        return command.Run(session, arguments, cancellationToken);
    }

    /// <summary>Splits off the first word; the rest keeps its inner spaces (a question, a SPEC).</summary>
    public static (string Head, string Tail) SplitFirst(string text)
    {
        text = text.Trim();
        var space = text.IndexOfAny([' ', '\t']);
        return space < 0 ? (text, "") : (text[..space], text[(space + 1)..].Trim());
    }

    private static Task Done(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    private static Task Strategy(ChatSession s, string name, CancellationToken _)
    {
        if (name.Length == 0)
        {
            s.Terminal.Note($"strategy {s.Settings.Strategy.Name}: {s.Settings.Strategy.Summary}");
            return Task.CompletedTask;
        }
        var entry = StrategyCatalog.Get(name);
        s.Settings.Strategy = entry;
        s.Terminal.Note($"strategy {entry.Name}: {entry.Summary}");
        var kept = s.Settings.NotReadBy(entry).Select(n => $"{n}={s.Settings.StrategyOptions[n]}").ToList();
        if (kept.Count > 0) s.Terminal.Note($"kept, not read by {entry.Name}: {string.Join(", ", kept)}");
        return Task.CompletedTask;
    }

    private static Task SetOption(ChatSession s, string name, string value)
    {
        if (value.Length == 0 || value.Any(char.IsWhiteSpace)) throw new ArgumentException($"/{name} takes one value (e.g. /{name} {(name == "n" ? "8" : "0.5")})");
        s.Settings.Set(name, value);
        var strategy = s.Settings.Strategy;
        if (ChatSettings.RequestOptions.Contains(name) || ChatSettings.Reads(strategy, name))
            s.Terminal.Note($"{name} = {value}");
        else
            s.Terminal.Note($"{name} = {value} kept; {strategy.Name} does not read it ({string.Join(", ", ChatSettings.ReadersOf(name))} do)");
        return Task.CompletedTask;
    }

    private static Task Set(ChatSession s, string arguments, CancellationToken _)
    {
        var (name, value) = SplitFirst(arguments.Replace('=', ' '));
        if (name.Length == 0 || value.Length == 0) throw new ArgumentException("usage: /set OPTION VALUE (e.g. /set top-k 20); /strategies lists each strategy's options");
        return SetOption(s, name.TrimStart('-').ToLowerInvariant(), value);
    }

    private static Task Unset(ChatSession s, string name, CancellationToken _)
    {
        name = name.TrimStart('-').ToLowerInvariant();
        if (name.Length == 0) throw new ArgumentException("usage: /unset OPTION");
        s.Terminal.Note(s.Settings.Unset(name) ? $"{name}: back to the default" : $"{name} was not set");
        return Task.CompletedTask;
    }

    private static Task Reward(ChatSession s, string spec, CancellationToken _)
    {
        if (spec.Length == 0)
        {
            s.Terminal.Note($"reward {RewardSettingText(s)}");
            return Task.CompletedTask;
        }
        if (spec == "default")
        {
            s.Settings.Reward = null;
            s.Terminal.Note($"reward {RewardSettingText(s)}");
            return Task.CompletedTask;
        }
        try
        {
            s.Bundle.RewardFor(spec); // loads it now, so a bad SPEC or a wrong folder fails here and not in the next reply
        }
        catch (RewardSpecException e)
        {
            throw new ArgumentException(e.Message.StartsWith("--reward: ", StringComparison.Ordinal) ? "/reward: " + e.Message["--reward: ".Length..] : e.Message);
        }
        s.Settings.Reward = spec;
        s.Terminal.Note($"reward {spec}");
        return Task.CompletedTask;
    }

    /// <summary>The reward in effect, as /reward and /show describe it.</summary>
    public static string RewardSettingText(ChatSession s) =>
        s.Settings.Reward ?? (s.Bundle.Reward is { } r ? $"{r.Spec.Text} (the default)" : "none (strategies that need a reward will say so)");

    private static Task History(ChatSession s, string mode, CancellationToken _)
    {
        switch (mode.ToLowerInvariant())
        {
            case "": break;
            case "on": s.History.MultiTurn = true; break;
            case "off": s.History.MultiTurn = false; break;
            default: throw new ArgumentException($"/history takes on or off (got '{mode}')");
        }
        s.Terminal.Note(s.History.MultiTurn ? $"multi-turn: earlier turns are sent along ({s.History.Turns} so far)" : "single-turn: each question is asked alone");
        return Task.CompletedTask;
    }

    private static void Help(ChatSession s)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("command").AddColumn("what it does");
        foreach (var c in All)
            table.AddRow(Markup.Escape($"/{c.Name}{(c.Arguments.Length > 0 ? " " + c.Arguments : "")}"), Markup.Escape(c.Help));
        s.Terminal.Write(table);
        s.Terminal.Note("Anything else is a question. Ctrl+C cancels a reply; Ctrl+C or Ctrl+D at the prompt exits.");
    }
}
