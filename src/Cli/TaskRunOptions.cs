using System.CommandLine;
using DecodeAlign.Chat;

namespace DecodeAlign.Cli;

/// <summary>The options eval and compare share: which split, how to sample and stop, batching, and the model paths.</summary>
internal sealed class TaskRunOptions
{
    public Option<string> Split { get; } = new("--split") { Description = "test or validation.", DefaultValueFactory = _ => "test" };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0UL };
    public Option<float> Temperature { get; } = new("--temperature") { Description = "Sampling temperature of the base LM.", DefaultValueFactory = _ => 1f };
    public Option<int> MaxNewTokens { get; } = new("--max-new-tokens") { Description = "Maximum tokens per response.", DefaultValueFactory = _ => 96 };
    public Option<int> Batch { get; } = new("--batch") { Description = "Problems decoded together in one batch.", DefaultValueFactory = _ => 16 };
    public Option<string?> Model { get; } = new("--model") { Description = "LM folder (default: built-in models/arith/lm)." };
    public Option<string?> Reward { get; } = new("--reward") { Description = RewardSpec.OptionDescription };
    public Option<string?> Value { get; } = new("--value") { Description = "Value model folder (default: built-in with the built-in LM)." };
    public Option<string?> Baseline { get; } = new("--baseline") { Description = "Baseline policy folder for tqstar (default: built-in models/arith/aligned with the built-in LM)." };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Split, Seed, Temperature, MaxNewTokens, Batch, Model, Reward, Value, Baseline }) cmd.Options.Add(o);
    }

    /// <summary>The split, refusing train (the built-in models were trained on it).</summary>
    public Tasks.Split ReadSplit(ParseResult pr)
    {
        var s = Tasks.Splits.Parse(pr.GetValue(Split)!);
        return s == Tasks.Split.Train ? throw new CliUsageException("--split must be test or validation (the models were trained on train).") : s;
    }

    /// <summary>The batch size, at least 1.</summary>
    public int ReadBatch(ParseResult pr) => pr.GetValue(Batch) is var b && b >= 1 ? b : throw new CliUsageException($"--batch must be >= 1 (got {b}).");
}
