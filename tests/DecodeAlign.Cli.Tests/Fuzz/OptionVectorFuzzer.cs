using System.CommandLine;
using DecodeAlign.Decoding;

namespace DecodeAlign.Cli.Tests.Fuzz;

/// <summary>
/// Random command lines for every verb and strategy, drawn from the CLI's own command tree (so a new option is fuzzed
/// without touching this file): each option is left out or given a value from pools of valid, boundary and garbage
/// values for its name and type. Work is kept small unless the value is one the memory budget must refuse.
/// </summary>
internal sealed class OptionVectorFuzzer(Random random, FuzzSandbox sandbox)
{
    private static readonly string[] Strategies = [.. StrategyCatalog.All.Select(e => e.Name)];

    private static readonly string[] Floats = ["0.5", "1", "2", "0", "|", "-1", "NaN", "Infinity", "-Infinity", "1e39", "abc", ""];
    private static readonly string[] SmallInts = ["1", "2", "3", "|", "0", "-1", "-2147483648", "2147483648", "abc", "", "1.5"];

    /// <summary>Options whose huge values the memory budget must refuse before any model runs.</summary>
    private static readonly HashSet<string> BudgetChecked = ["--n", "--num-samples", "--beams", "--rollouts"];

    /// <summary>Options whose work grows with their value: small values only, so every case stays short.</summary>
    private static readonly HashSet<string> Work = ["--problems", "--count", "--samples-per-problem", "--burn-in", "--lookahead", "--rollout-length", "--batch", "--start", "--block-size", "--top-k"];

    /// <summary>
    /// The CLI's verbs, read once from its command tree; verbs that run models appear more often, as they have the most
    /// options and the most to go wrong.
    /// </summary>
    private static readonly Command[] Verbs = [.. Program.BuildRoot().Subcommands
        .SelectMany(v => Enumerable.Repeat(v, v.Name switch { "generate" or "eval" => 6, "compare" => 3, "rm-bench" => 2, "import-llama2c" => 1, _ => 2 }))];

    /// <summary>A command line for a random verb.</summary>
    public string[] Next(int index)
    {
        var verb = Pick(Verbs);
        var args = new List<string> { verb.Name };
        var output = sandbox.OutputFor(index);
        foreach (var option in verb.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name != "--help" && o.Name != "--version"))
        {
            if (random.NextDouble() > 0.15) continue;
            if (option.ValueType == typeof(bool))
            {
                args.Add(option.Name);
                continue;
            }
            args.Add(option.Name);
            args.Add(Value(option, verb.Name, output));
        }
        if (random.NextDouble() < 0.03) args.Add(Pick(["|", "--nope", "extra", "-x"]));
        Bound(args, verb.Name, output);
        return [.. args];
    }

    /// <summary>Adds small work sizes the draw left out, so a valid case finishes in about a second.</summary>
    private void Bound(List<string> args, string verb, string output)
    {
        void Default(string name, string value)
        {
            if (!args.Contains(name)) args.AddRange([name, value]);
        }
        switch (verb)
        {
            case "generate":
                Default("--max-new-tokens", "8");
                break;
            case "eval":
                Default("--problems", "2");
                Default("--max-new-tokens", "24");
                Default("--samples-per-problem", "2");
                break;
            case "compare":
                Default("--problems", "1");
                Default("--budgets", "1");
                Default("--max-new-tokens", "24");
                Default("--strategies", Pick(Strategies));
                Default("--out", output);
                break;
            case "rm-bench":
                Default("--problems", "2");
                Default("--samples-per-problem", "2");
                if (!args.Contains("--pairs")) Default("--task", "arith");
                break;
            case "task-dump":
                Default("--count", "5");
                Default("--out", output);
                break;
        }
    }

    private string Value(Option option, string verb, string output)
    {
        var name = option.Name;
        return name switch
        {
            "--strategy" => Pick([.. Strategies, "|", "nope", "", "BON"]),
            "--strategies" => Pick([string.Join(",", Strategies.OrderBy(_ => random.Next()).Take(random.Next(1, 3))), "sample,,bon", "|", "nope", ",", ""]),
            "--budgets" => Pick(["1", "1,2", "|", "0", "-1", "1,x", "", "100000"]),
            "--task" => Pick(["arith", "|", "nope", ""]),
            "--split" => Pick(["train", "test", "validation", "|", "nope"]),
            "--select" => Pick(["last", "mv", "wmv", "best", "|", "nope"]),
            "--backend" => Pick(["auto", "cpu", "|", "cuda", "tpu", ""]),
            "--execution-provider" => Pick(["cpu", "|", "cuda", "tpu"]),
            "--seed" => Pick(["0", "1", "42", "18446744073709551615", "|", "-1", "x"]),
            "--memory-limit" => Pick(["0", "64", "100000", "|", "1", "-5", "x"]),
            "--threads" => Pick(["0", "1", "2", "|", "-1", "100000", "x"]),
            "--max-new-tokens" => Pick(["1", "8", "24", "|", "0", "-3", "100000", "x"]),
            "--prune-at" => Pick(["2", "4", "|", "0", "-1", "x"]),
            "--model" or "--value" or "--baseline" => Pick([Builtin(name == "--value" ? "value" : name == "--baseline" ? "aligned" : "lm"), "|", Builtin("value"), Builtin("aligned"), Builtin("verifier"), Missing(), Path.Combine(sandbox.Inputs, "empty-folder"), Path.Combine(sandbox.Inputs, "binary.bin"), ""]),
            "--reward" => Pick(["verifier", "likelihood", "calc", "length:5", "keyword:the", "keyword:!sorry=-1", "json", "verifier=2,calc=0.5", Builtin("verifier"), "|", "length:-1", "keyword:/[/", "verifier=-1", "verifier=NaN", "nope", "", "=", ",,", Builtin("lm"), Missing()]),
            "--prompt" => Pick(["", "Q: Tom has 3 apples and buys 4 more. How many apples does Tom have now?\nA:", "A:", "|", new string('7', 3000), "\u0000\uFFFF 🙂"]),
            "--stop" => Pick(["A:", "\n", ".", "|", ""]),
            "--prompts" => Pick([In("prompts.jsonl"), "|", In("prompts-bad.jsonl"), In("empty.jsonl"), In("binary.bin"), Missing(), sandbox.Inputs]),
            "--pairs" => Pick([In("pairs.jsonl"), "|", In("pairs-bad.jsonl"), In("empty.jsonl"), Missing(), sandbox.Inputs]),
            "--answer-regex" => Pick(["(\\d+)", "The answer is (\\d+)", "|", "[", ""]),
            "--checkpoint" or "--tokenizer" => Pick(["|", Missing(), sandbox.Inputs, In("binary.bin"), In("empty.jsonl")]),
            "--out" => Pick([output, ExistingFile(output), "|", Path.GetDirectoryName(output)!, "/proc/decodealign-nope/x", ""]),
            _ when BudgetChecked.Contains(name) => Pick([.. SmallInts, "100000"]),
            _ when Work.Contains(name) => Pick(SmallInts),
            _ when option.ValueType == typeof(float) || option.ValueType == typeof(float?) || option.ValueType == typeof(double) => Pick(Floats),
            _ when option.ValueType == typeof(int) || option.ValueType == typeof(int?) || option.ValueType == typeof(long) || option.ValueType == typeof(int[]) => Pick(SmallInts),
            _ => Pick(["1", "|", "x", ""]),
        };
    }

    private string In(string file) => Path.Combine(sandbox.Inputs, file);

    /// <summary>A file that already exists where the case's output goes (overwriting it is the user's request).</summary>
    private static string ExistingFile(string output)
    {
        var path = Path.Combine(Path.GetDirectoryName(output)!, "existing.txt");
        File.WriteAllText(path, "old\n");
        return path;
    }

    private string Missing() => Path.Combine(sandbox.Root, "no-such-path");

    private static string Builtin(string name) => Path.Combine(SharedModels.RepoRoot, "models", "arith", name);

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];

    /// <summary>
    /// A value from a pool written as valid values, "|", then invalid ones: invalid with probability 0.12, so that most
    /// command lines get past parsing and exercise validation, loading and decoding rather than the parser alone.
    /// </summary>
    private string Pick(string[] pool)
    {
        var bar = Array.IndexOf(pool, "|");
        if (bar < 0) return pool[random.Next(pool.Length)];
        var invalid = pool[(bar + 1)..];
        return bar == 0 || (invalid.Length > 0 && random.NextDouble() < 0.12) ? invalid[random.Next(invalid.Length)] : pool[random.Next(bar)];
    }
}
