using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DecodeAlign.Chat;
using DecodeAlign.Cli.Compare;
using DecodeAlign.Decoding;
using DecodeAlign.Kernels;
using DecodeAlign.Tasks;
using Spectre.Console;

namespace DecodeAlign.Cli.Commands;

/// <summary>
/// <c>decodealign compare</c>: strategies × budgets on a task, one cell at a time, each cell's accuracy (95% Wilson
/// interval), mean reward and compute appended to results.csv as it finishes (so --resume skips finished cells after an
/// interruption), with results.json, results.md and plots rewritten from it.
/// </summary>
internal static class CompareCommand
{
    private static readonly string[] DefaultBudgets = ["1", "2", "4", "8", "16", "32", "64"];

    public static Command Create()
    {
        var common = new CommonOptions();
        var opts = new TaskRunOptions();
        var task = new Option<string>("--task") { Description = "Task (arith).", DefaultValueFactory = _ => "arith" };
        var strategies = new Option<string?>("--strategies") { Description = "Comma-separated strategies (default: every strategy in the catalog)." };
        var budgets = new Option<string?>("--budgets") { Description = "Comma-separated budgets: candidates, chain steps, particles, beams or rollouts as each strategy reads them (`decodealign strategies`); strategies without a budget run once. Default 1,2,4,8,16,32,64." };
        var problems = new Option<int?>("--problems") { Description = "Problems from the start of the split (default 200; 10 with --quick)." };
        var outDir = new Option<string>("--out") { Description = "Output folder for results.csv, results.json, results.md and the plots.", DefaultValueFactory = _ => Path.Combine("out", "compare") };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out: skip the cells results.csv already holds." };
        var prompts = new Option<string?>("--prompts") { Description = "Your own prompts instead of --task: a JSONL file with \"prompt\" and optional \"answer\" per line (prompts are used as they are; accuracy only where answers are given)." };
        var answerRegex = new Option<string>("--answer-regex") { Description = "--prompts: the regex whose last match (its first group, if any) is a response's answer.", DefaultValueFactory = _ => @"(-?\d+(?:\.\d+)?)" };
        var quick = new Option<bool>("--quick") { Description = "A small run (budgets 1,2; 10 problems unless given): what CI runs." };
        var cmd = new Command("compare", "Compare strategies across compute budgets: accuracy with intervals, reward and compute per cell; tables and plots.")
        {
            task, strategies, budgets, problems, outDir, resume, quick, prompts, answerRegex,
        };
        opts.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction((pr, ct) =>
        {
            // Everything the user typed is checked before any model loads.
            PromptFileTask? fileTask;
            try
            {
                fileTask = pr.GetValue(prompts) is { } file ? PromptFileTask.Load(file, pr.GetValue(answerRegex)!) : null;
            }
            catch (FormatException e)
            {
                throw new CliUsageException(e.Message);
            }
            IEvalTask t = fileTask ?? TaskRegistry.Get(pr.GetValue(task)!);
            var s = opts.ReadSplit(pr);
            var entries = (pr.GetValue(strategies) ?? string.Join(",", StrategyCatalog.All.Select(e => e.Name))).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => StrategyCatalog.All.FirstOrDefault(e => e.Name == n.ToLowerInvariant())
                    ?? throw new CliUsageException($"--strategies: unknown strategy '{n}' (known: {string.Join(", ", StrategyCatalog.All.Select(e => e.Name))}).")).ToArray();
            if (entries.Length == 0) throw new CliUsageException("--strategies: give at least one strategy.");
            var budgetList = (pr.GetValue(budgets)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? (pr.GetValue(quick) ? ["1", "2"] : DefaultBudgets))
                .Select(b => int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new CliUsageException($"--budgets: every budget must be a whole number > 0 (got '{b}')."))
                .Distinct().ToArray();
            if (budgetList.Length == 0) throw new CliUsageException("--budgets: give at least one budget.");
            var count = pr.GetValue(problems) ?? (fileTask?.Count ?? (pr.GetValue(quick) ? 10 : 200));
            if (fileTask is not null && count > fileTask.Count) throw new CliUsageException($"--problems {count}: {pr.GetValue(prompts)} holds {fileTask.Count} prompts.");
            if (count < 1) throw new CliUsageException($"--problems must be >= 1 (got {count}).");
            var batchSize = opts.ReadBatch(pr);
            var generation = new GenerationOptions
            {
                MaxNewTokens = pr.GetValue(opts.MaxNewTokens),
                Sampling = new SamplingParameters { Temperature = pr.GetValue(opts.Temperature), Seed = pr.GetValue(opts.Seed) },
            };
            foreach (var e in entries) StrategySettings.CheckTemperature(e, generation.Sampling.Temperature);
            generation.Validate();
            var cells = entries.SelectMany(e => e.BudgetOption is null ? [(Entry: e, Budget: (int?)null)] : budgetList.Select(b => (Entry: e, Budget: (int?)b))).ToArray();
            var rewardText = pr.GetValue(opts.Reward) ?? (pr.GetValue(opts.Model) is null ? "verifier" : null);
            var run = new JsonObject
            {
                ["task"] = t.Name,
                ["split"] = s.Name(),
                ["problems"] = count,
                ["reward"] = rewardText,
                ["seed"] = generation.Sampling.Seed,
                ["temperature"] = generation.Sampling.Temperature,
                ["max_new_tokens"] = generation.MaxNewTokens,
                ["batch"] = batchSize,
                ["model"] = pr.GetValue(opts.Model) ?? "built-in",
                ["prompts"] = pr.GetValue(prompts),
            };
            var outPath = pr.GetValue(outDir)!;
            if (outPath.Length == 0) throw new CliUsageException("--out: give a folder for the results.");
            if (File.Exists(outPath)) throw new CliUsageException($"--out {outPath} is a file; compare writes a folder (results.csv, results.json, results.md, plots).");
            var results = new CompareResults(outPath);
            // Nothing is written before the models loaded and the budget was checked: a rejected run leaves no folder.
            var fresh = !pr.GetValue(resume) || !File.Exists(results.Csv);
            if (!pr.GetValue(resume) && File.Exists(results.Csv))
                throw new CliUsageException($"--out: {results.Csv} already exists; pass --resume to continue that run, or choose another --out.");
            var done = fresh ? [] : ResumeFrom(results, run);
            var todo = cells.Where(c => done.All(d => d.Key != CompareCell.KeyOf(c.Entry.Name, c.Budget))).ToArray();

            using var kernels = common.CreateKernels(pr);
            var needReward = rewardText is not null || entries.Any(e => e.Requires.Contains(PotentialRole.Reward) || e.Requires.Contains(PotentialRole.PrefixScorer));
            // One set of sessions serves every cell: threads follow the widest cell still to run.
            var widest = todo.Select(c => Math.Min(batchSize, count) * Settings(c.Entry, c.Budget).RowsPerPrompt).DefaultIfEmpty(0).Max();
            using var models = AlignmentModels.Load(pr.GetValue(opts.Model), pr.GetValue(opts.Reward), pr.GetValue(opts.Value), common.ModelOptions(pr, widest), needReward,
                entries.Any(e => e.Requires.Contains(PotentialRole.Value)), pr.GetValue(opts.Baseline), entries.Any(e => e.Requires.Contains(PotentialRole.BaselinePolicy)));
            var skipped = cells.Length - todo.Length;
            var rowTokens = Math.Min(models.Lm.Lm.Info.ContextLength, generation.MaxNewTokens + 128);
            var limit = common.ReadMemoryLimit(pr);
            foreach (var (entry, budget) in todo)
                MemoryBudget.Check(Math.Min(batchSize, count), Settings(entry, budget), models, rowTokens, limit, $"--batch and --budgets ({CompareCell.KeyOf(entry.Name, budget)})");
            if (fresh) Start(results, run);
            Console.Error.WriteLine($"compare: {cells.Length} cells ({skipped} of them already in {results.Csv}), {count} {t.Name} problems each, reward {rewardText ?? "none"}");
            var all = new List<CompareCell>(done);
            var wall = Stopwatch.StartNew();
            double workDone = 0, workLeft = todo.Sum(c => Weight(c.Budget));
            for (var i = 0; i < todo.Length; i++)
            {
                var (entry, budget) = todo[i];
                var settings = Settings(entry, budget);
                var potentials = models.Potentials(settings.Beta, t.ExtractAnswer);
                var label = CompareCell.KeyOf(entry.Name, budget);
                var remaining = workDone > 0 ? TimeSpan.FromSeconds(wall.Elapsed.TotalSeconds / workDone * workLeft) : (TimeSpan?)null;
                var totals = Evaluation.Run(t, s, count, batchSize, settings, models, kernels, potentials, ct,
                    n => Progress(i + 1 + skipped, cells.Length, label, n, count, wall.Elapsed, remaining));
                // The cell in flight is lost, never appended half done: --resume runs it again.
                if (totals.Cancelled) throw new OperationCanceledException(ct);
                var cell = new CompareCell(entry.Name, budget, totals.Problems, totals.Correct, totals.MeanReward, totals.LmTokens, totals.LmCalls,
                    totals.RmTokens, totals.RmCalls, totals.GeneratedTokens, totals.AcceptanceRate, totals.WallSeconds, Graded: fileTask?.Graded ?? true);
                all.Add(cell);
                results.Append(cell, Ordered(all), run);
                workDone += Weight(budget);
                workLeft -= Weight(budget);
                Console.Error.WriteLine($"{(AnsiConsole.Profile.Capabilities.Interactive && !Console.IsErrorRedirected ? "\r\u001b[K" : "")}[{i + 1 + skipped}/{cells.Length}] {label}: {(cell.Graded ? $"accuracy {cell.Accuracy:P1}" : $"mean reward {cell.MeanReward:F3}")}, {cell.WallSeconds:F1} s");
            }
            var ordered = Ordered(all);
            results.WriteViews(ordered, run);
            var plots = ComparePlots.Write(ordered, results.Folder);
            Console.Out.Write(File.ReadAllText(Path.Combine(results.Folder, "results.md")));
            Console.Error.WriteLine($"wrote {results.Csv}, results.json, results.md and {plots.Count} plots (PNG and SVG) in {results.Folder} ({wall.Elapsed.TotalSeconds:F0} s)");
            return Task.FromResult(0);

            StrategySettings Settings(StrategyEntry entry, int? budget) => new()
            {
                Entry = entry,
                Options = budget is int b ? new Dictionary<string, string> { [entry.BudgetOption!] = b.ToString(CultureInfo.InvariantCulture) } : [],
                Generation = generation,
                ExplicitTemperature = pr.GetResult(opts.Temperature) is { Implicit: false } ? generation.Sampling.Temperature : null,
            };
        });
        return cmd;
    }

    /// <summary>Cells in catalog order, budgets ascending within a strategy, whatever order they finished (or were resumed) in.</summary>
    private static List<CompareCell> Ordered(List<CompareCell> all) =>
        all.OrderBy(c => StrategyCatalog.All.Select(e => e.Name).ToList().IndexOf(c.Strategy) is var i && i < 0 ? int.MaxValue : i).ThenBy(c => c.Budget ?? 0).ToList();

    /// <summary>Relative cost of a cell for the time estimate: its budget (1 for baselines), a rough but monotone guide.</summary>
    private static double Weight(int? budget) => budget ?? 1;

    private static void Start(CompareResults results, JsonObject run)
    {
        results.Start();
        File.WriteAllText(Path.Combine(results.Folder, "run.json"), run.ToJsonString() + "\n");
    }

    private static List<CompareCell> ResumeFrom(CompareResults results, JsonObject run)
    {
        var runFile = Path.Combine(results.Folder, "run.json");
        if (!File.Exists(runFile)) throw new CliUsageException($"--resume: {results.Folder} has results.csv but no run.json; it was not written by compare.");
        var previous = JsonNode.Parse(File.ReadAllText(runFile))!.AsObject();
        foreach (var (key, value) in run)
            if (!JsonNode.DeepEquals(previous[key], value))
                throw new CliUsageException($"--resume: {results.Folder} holds a run with {key} = {previous[key]?.ToJsonString() ?? "null"}, not {value?.ToJsonString() ?? "null"}; resume it with the same options or choose another --out.");
        try
        {
            return results.Read();
        }
        catch (FormatException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    private static void Progress(int cell, int cells, string label, int problemsDone, int problems, TimeSpan elapsed, TimeSpan? remaining)
    {
        var line = $"[{cell}/{cells}] {label}: {problemsDone}/{problems} problems, elapsed {elapsed:hh\\:mm\\:ss}{(remaining is { } r ? $", about {r:hh\\:mm\\:ss} left" : "")}";
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsErrorRedirected) Console.Error.Write($"\r{line}\u001b[K");
        else if (problemsDone == problems) Console.Error.WriteLine(line);
    }
}
