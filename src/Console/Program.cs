using System.CommandLine;
using DecodeAlign.Chat;
using DecodeAlign.Decoding;
using Spectre.Console;

namespace DecodeAlign.ChatConsole;

/// <summary><c>decodealign-chat</c>: an interactive chat over <see cref="DecodeAlignChatClient"/> on the built-in or a given model.</summary>
public static class Program
{
    /// <summary>Exit code for a bad option or a model that cannot be loaded.</summary>
    private const int UserError = 2;

    /// <summary>Parses the options and runs the chat; returns 0 when the user leaves, <see cref="UserError"/> when it cannot start.</summary>
    public static int Main(string[] args)
    {
        var model = new Option<string?>("--model") { Description = "LM folder (model.onnx + tokenizer). Default: the built-in arith models in models/arith." };
        var reward = new Option<string?>("--reward") { Description = RewardSpec.OptionDescription };
        var strategy = new Option<string>("--strategy")
        {
            Description = $"Strategy to start with: {string.Join(", ", StrategyCatalog.All.Select(e => e.Name))}.",
            DefaultValueFactory = _ => new DecodeAlignChatClientOptions().DefaultStrategy,
        };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed (default 0; replies are reproducible either way)." };
        var root = new RootCommand("DecodeAlign chat: ask questions, switch decoding strategies, compare them side by side.") { model, reward, strategy, seed };
        root.SetAction(pr => RunAsync(pr.GetValue(model), pr.GetValue(reward), pr.GetValue(strategy)!, pr.GetValue(seed)).GetAwaiter().GetResult());
        // Ctrl+C is the chat's own (CtrlCHandler): no termination timeout from System.CommandLine.
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    private static async Task<int> RunAsync(string? model, string? reward, string strategyName, long? seed)
    {
        var terminal = AnsiConsole.Console;
        StrategyEntry strategy;
        try
        {
            strategy = StrategyCatalog.Get(strategyName);
        }
        catch (ArgumentException e)
        {
            terminal.Error($"--strategy: {e.Message}");
            return UserError;
        }

        terminal.Note(model is null ? "loading the built-in arith models ..." : $"loading {model} ...");
        ModelBundle bundle;
        try
        {
            bundle = ModelBundle.Load(new ModelBundleOptions { Model = model, Reward = reward });
        }
        catch (Exception e)
        {
            terminal.Error(e.Message);
            return UserError;
        }

        using var client = new DecodeAlignChatClient(bundle, new DecodeAlignChatClientOptions { DefaultStrategy = strategy.Name }, ownsBundle: true);
        var settings = new ChatSettings(strategy) { Seed = seed };
        // The arith template is one question per prompt; other models get a conversation.
        var history = new ChatHistory(multiTurn: !(bundle.IsBuiltin || bundle.Template.Style == ChatTemplateStyle.Arith));
        var description = bundle.IsBuiltin ? $"built-in arith models ({BuiltinModels.Root})" : Path.GetFullPath(model!);
        var session = new ChatSession(client, bundle, description, settings, history, terminal);

        terminal.MarkupLine($"[bold]DecodeAlign chat[/] on {Markup.Escape(description)}; strategy [cyan]{Markup.Escape(strategy.Name)}[/], reward {Markup.Escape(ChatCommands.RewardSettingText(session))}.");
        if (bundle.IsBuiltin)
            terminal.Note("Ask arithmetic word problems, e.g. \"Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?\". Each question stands alone (/history on to change).");
        terminal.Note("/help lists the commands. Ctrl+C cancels a reply; Ctrl+C or Ctrl+D at the prompt exits.");

        using var ctrlC = new CtrlCHandler(() =>
        {
            terminal.WriteLine();
            Environment.Exit(0);
        });
        return await new ChatLoop(session, ctrlC).RunAsync();
    }
}
