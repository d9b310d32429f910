using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecodeAlign.Chat;
using DecodeAlign.Cli.Compare;
using DecodeAlign.Decoding;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Cli.Commands;

/// <summary>
/// <c>decodealign rm-bench</c>: a reward's pairwise accuracy on (prompt, chosen, rejected) pairs, the RewardBench
/// measure the seed papers use to pick reward models: the share of pairs where r(chosen) &gt; r(rejected) (ties ½),
/// overall and per subset, with 95% Wilson intervals. Pairs come from a JSONL file or from the base LM's samples on a
/// task, graded by its checker (a correct and a wrong response to the same problem). Any reward SPEC works.
/// </summary>
internal static class RmBenchCommand
{
    /// <summary>One pair to judge.</summary>
    internal sealed record Pair(string Prompt, string Chosen, string Rejected, string Subset);

    public static Command Create()
    {
        var common = new CommonOptions();
        var reward = new Option<string?>("--reward") { Description = RewardSpec.OptionDescription };
        var pairsFile = new Option<string?>("--pairs") { Description = "JSONL file of pairs: {\"prompt\", \"chosen\", \"rejected\", optional \"subset\"} per line." };
        var task = new Option<string?>("--task") { Description = "Build pairs from the base LM's samples on this task instead (arith): per problem, every (correct, wrong) pair of its samples." };
        var problems = new Option<int>("--problems") { Description = "--task: problems sampled.", DefaultValueFactory = _ => 200 };
        var perProblem = new Option<int>("--samples-per-problem") { Description = "--task: base-LM samples per problem.", DefaultValueFactory = _ => 4 };
        var seed = new Option<ulong>("--seed") { Description = "--task: sampling seed.", DefaultValueFactory = _ => 0UL };
        var model = new Option<string?>("--model") { Description = "LM folder whose tokens learned rewards score (default: built-in)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var cmd = new Command("rm-bench", "Pairwise accuracy of a reward on chosen/rejected pairs (RewardBench style), overall and per subset.")
        {
            reward, pairsFile, task, problems, perProblem, seed, model, json,
        };
        common.AddTo(cmd);
        cmd.SetAction((pr, ct) =>
        {
            var file = pr.GetValue(pairsFile);
            var taskName = pr.GetValue(task);
            if ((file is null) == (taskName is null)) throw new CliUsageException("rm-bench needs exactly one of --pairs FILE.jsonl and --task NAME.");
            var filePairs = file is null ? null : ReadPairs(file);
            var t = taskName is null ? null : TaskRegistry.Get(taskName);
            var count = pr.GetValue(problems);
            var k = pr.GetValue(perProblem);
            if (t is not null && count < 1) throw new CliUsageException($"--problems must be >= 1 (got {count}).");
            if (t is not null && k < 2) throw new CliUsageException($"--samples-per-problem must be >= 2 to form pairs (got {k}).");
            var spec = pr.GetValue(reward) ?? (pr.GetValue(model) is null ? "verifier" : throw new CliUsageException("rm-bench needs --reward SPEC with your own --model."));
            using var models = AlignmentModels.Load(pr.GetValue(model), spec, null, common.ModelOptions(pr), needReward: true, needValue: false);
            using var kernels = common.CreateKernels(pr);
            var pairs = filePairs ?? SamplePairs(t!, count, k, pr.GetValue(seed), models, kernels, ct);
            if (pairs.Count == 0) throw new CliUsageException("no pairs to judge (every problem's samples were all correct or all wrong; raise --samples-per-problem or --problems).");
            var scores = models.Reward!.Score(pairs.SelectMany(p => new[] { new RewardQuery(p.Prompt, p.Chosen), new RewardQuery(p.Prompt, p.Rejected) }).ToArray(), ct);
            var wins = pairs.Select((_, i) => scores[2 * i] > scores[2 * i + 1] ? 1.0 : scores[2 * i] == scores[2 * i + 1] ? 0.5 : 0.0).ToArray();
            var result = new JsonObject
            {
                ["reward"] = spec,
                ["source"] = file ?? $"{t!.Name} samples ({count} problems × {k})",
                ["pairs"] = pairs.Count,
                ["overall"] = Summary(wins),
                ["subsets"] = new JsonObject(pairs.Select((p, i) => (p.Subset, Win: wins[i])).GroupBy(x => x.Subset).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => KeyValuePair.Create(g.Key, (JsonNode?)Summary(g.Select(x => x.Win).ToArray())))),
            };
            if (pr.GetValue(json)) Console.Out.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else
            {
                Console.Out.WriteLine($"reward {spec} on {result["source"]}: {pairs.Count} pairs");
                Console.Out.WriteLine("| subset | pairs | accuracy (95% CI) |\n|---|---:|---:|");
                foreach (var (name, s) in new[] { ("overall", result["overall"]!) }.Concat(result["subsets"]!.AsObject().Select(kv => (kv.Key, kv.Value!))))
                    Console.Out.WriteLine($"| {name} | {s["pairs"]} | {(double)s["accuracy"]!:P1} ({(double)s["ci_low"]!:P1}–{(double)s["ci_high"]!:P1}) |");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>Accuracy of a set of pair outcomes (1, ½, 0) with its Wilson interval (ties count as half a success).</summary>
    private static JsonObject Summary(double[] wins)
    {
        var correct = wins.Sum();
        var (low, high) = WilsonInterval.Of(correct, wins.Length);
        return new JsonObject { ["pairs"] = wins.Length, ["accuracy"] = correct / wins.Length, ["ci_low"] = low, ["ci_high"] = high };
    }

    /// <summary>Reads the pairs file; a malformed line is one error naming the file and line.</summary>
    internal static List<Pair> ReadPairs(string file)
    {
        try
        {
            return JsonLines.Read(file, "--pairs", o => new Pair(JsonLines.RequiredString(o, "prompt"), JsonLines.RequiredString(o, "chosen"),
                JsonLines.RequiredString(o, "rejected"), JsonLines.OptionalString(o, "subset") ?? "all"));
        }
        catch (FormatException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    /// <summary>Samples k responses per problem from the base LM (temperature 1) and pairs every correct one with every wrong one; the subset is the problem's number of steps.</summary>
    private static List<Pair> SamplePairs(IEvalTask task, int count, int k, ulong seed, AlignmentModels models, ITokenKernels kernels, CancellationToken ct)
    {
        var settings = new StrategySettings { Entry = StrategyCatalog.Get("sample"), Generation = new GenerationOptions { MaxNewTokens = 96, Sampling = new SamplingParameters { Seed = seed } } };
        var pairs = new List<Pair>();
        foreach (var (problem, texts) in Evaluation.Samples(task, Split.Test, count, k, 16, settings, models, kernels, ct))
        {
            var right = texts.Where(x => task.IsCorrect(problem, x)).ToArray();
            var wrong = texts.Where(x => !task.IsCorrect(problem, x)).ToArray();
            var steps = problem.Solution.Count(c => c == '=');
            foreach (var c in right)
                foreach (var r in wrong) pairs.Add(new Pair(task.Prompt(problem), c, r, steps == 1 ? "1 step" : $"{steps} steps"));
        }
        return pairs;
    }
}
