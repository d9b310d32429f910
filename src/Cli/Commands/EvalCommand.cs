using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecodeAlign.Chat;
using DecodeAlign.Decoding;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Cli.Commands;

/// <summary>
/// <c>decodealign eval</c>: runs a strategy on a task's problems and reports accuracy, mean reward and compute; with
/// <c>--reward-report</c>, measures how well the reward model separates correct from wrong base-model samples.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var opts = new TaskRunOptions();
        var task = new Option<string>("--task") { Description = "Task (arith).", DefaultValueFactory = _ => "arith" };
        var strategies = new StrategyOptions();
        var problems = new Option<int>("--problems") { Description = $"Number of problems (from the start of the split; {ReportProblems} with --reward-report, whose AUC and ranking need the samples).", DefaultValueFactory = _ => 100 };
        var rewardReport = new Option<bool>("--reward-report") { Description = "Report the reward's ROC AUC, within-problem ranking and accuracy at 0 on fresh base-model samples instead." };
        var perProblem = new Option<int>("--samples-per-problem") { Description = "--reward-report: base-model samples drawn for each problem (the ranking compares a problem's correct and wrong ones).", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var cmd = new Command("eval", "Evaluate a decoding strategy on a built-in task.")
        {
            task, problems, rewardReport, perProblem, json,
        };
        strategies.AddTo(cmd);
        opts.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction((pr, ct) =>
        {
            var t = TaskRegistry.Get(pr.GetValue(task)!);
            var s = opts.ReadSplit(pr);
            var report = pr.GetValue(rewardReport);
            var count = report && (pr.GetResult(problems)?.Implicit ?? true) ? ReportProblems : pr.GetValue(problems);
            if (count < 1) throw new CliUsageException($"--problems must be >= 1 (got {count}).");
            var samplesPerProblem = pr.GetValue(perProblem);
            if (samplesPerProblem < 1) throw new CliUsageException($"--samples-per-problem must be >= 1 (got {samplesPerProblem}).");
            var batchSize = opts.ReadBatch(pr);
            var generation = new GenerationOptions
            {
                MaxNewTokens = pr.GetValue(opts.MaxNewTokens),
                Sampling = new SamplingParameters { Temperature = pr.GetValue(opts.Temperature), Seed = pr.GetValue(opts.Seed) },
            };
            var settings = strategies.Read(pr, generation, report ? "sample" : null, opts.Temperature);
            settings.CheckTemperature();
            generation.Validate();

            using var kernels = common.CreateKernels(pr);
            var needReward = report || settings.NeedsReward || pr.GetValue(opts.Reward) is not null || pr.GetValue(opts.Model) is null;
            var prompts = report ? (long)Math.Min(batchSize, count) * samplesPerProblem : Math.Min(batchSize, count);
            using var models = AlignmentModels.Load(pr.GetValue(opts.Model), pr.GetValue(opts.Reward), pr.GetValue(opts.Value),
                common.ModelOptions(pr, prompts * settings.RowsPerPrompt), needReward, settings.NeedsValue, pr.GetValue(opts.Baseline), settings.NeedsBaseline);
            var potentials = models.Potentials(settings.Beta, t.ExtractAnswer);
            // Arith prompts are short: a row holds at most the response and a prompt of a few dozen tokens.
            var rowTokens = Math.Min(models.Lm.Lm.Info.ContextLength, settings.Generation.MaxNewTokens + 128);
            MemoryBudget.Check(prompts, settings, models, rowTokens,
                common.ReadMemoryLimit(pr), report ? "--batch and --samples-per-problem" : "--batch and the strategy's budget (--n, ...)");
            var result = report
                ? RewardReport(t, s, count, samplesPerProblem, batchSize, settings, models, kernels, ct)
                : Evaluate(t, s, count, batchSize, settings, models, kernels, potentials, ct);
            result["task"] = t.Name;
            result["split"] = s.Name();
            result["seed"] = settings.Generation.Sampling.Seed;
            if (pr.GetValue(json)) Console.Out.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else PrintText(result);
            if (result["cancelled"]?.GetValue<bool>() != true) return Task.FromResult(0);
            Console.Error.WriteLine($"cancelled: partial result over the {result["problems"]} problems that finished");
            return Task.FromResult(CliErrors.Cancelled);
        });
        return cmd;
    }

    /// <summary>
    /// Problems the reward report samples by default: with 4 samples each, 2000 samples, the size of the model card's
    /// held-out set, so the numbers compare (about half a minute on two cores; 80 samples took 1.5 s).
    /// </summary>
    private const int ReportProblems = 500;

    private static JsonObject Evaluate(IEvalTask task, Split split, int count, int batchSize, StrategySettings settings, AlignmentModels models,
        ITokenKernels kernels, Potentials potentials, CancellationToken ct)
    {
        var t = Evaluation.Run(task, split, count, batchSize, settings, models, kernels, potentials, ct);
        return new JsonObject
        {
            ["strategy"] = t.Strategy,
            ["n"] = settings.N,
            ["problems"] = t.Problems,
            ["correct"] = t.Correct,
            ["accuracy"] = t.Problems > 0 ? t.Accuracy : null,
            ["mean_reward"] = t.MeanReward,
            ["lm_tokens"] = t.LmTokens,
            ["lm_calls"] = t.LmCalls,
            ["rm_tokens"] = t.RmTokens,
            ["rm_calls"] = t.RmCalls,
            ["generated_tokens"] = t.GeneratedTokens,
            ["wall_seconds"] = t.WallSeconds,
            ["cancelled"] = t.Cancelled,
        };
    }

    /// <summary>
    /// Samples the base LM <paramref name="perProblem"/> times on each problem and measures how the reward separates
    /// correct from wrong samples: over all samples (ROC AUC) and within each problem (the share of a problem's
    /// (correct, wrong) pairs where the correct one scores higher, ties ½), which is what best-of-N relies on.
    /// </summary>
    private static JsonObject RewardReport(IEvalTask task, Split split, int count, int perProblem, int batchSize, StrategySettings settings,
        AlignmentModels models, ITokenKernels kernels, CancellationToken ct)
    {
        var wall = Stopwatch.StartNew();
        var labels = new List<bool>();
        var queries = new List<RewardQuery>();
        var problems = 0;
        foreach (var (problem, texts) in Evaluation.Samples(task, split, count, perProblem, batchSize, settings, models, kernels, ct))
        {
            problems++;
            foreach (var text in texts)
            {
                labels.Add(task.IsCorrect(problem, text));
                queries.Add(new RewardQuery(task.Prompt(problem), text));
            }
        }
        var scores = models.Reward!.Score(queries, ct);
        var predictedRight = scores.Zip(labels).Count(x => (x.First >= 0) == x.Second);
        var (ranking, pairs) = WithinGroupRanking(scores, labels, perProblem);
        return new JsonObject
        {
            ["reward"] = models.RewardSpec?.Text,
            ["reward_model"] = models.Reward.Source,
            ["problems"] = problems,
            ["samples_per_problem"] = perProblem,
            ["samples"] = labels.Count,
            ["base_accuracy"] = labels.Count(l => l) / (double)labels.Count,
            ["auc"] = RocAuc(scores, labels),
            ["within_problem_ranking"] = ranking,
            ["pairs"] = pairs,
            ["top_scored_accuracy"] = TopScoredAccuracy(scores, labels, perProblem),
            ["accuracy_at_0_5"] = predictedRight / (double)labels.Count,
            ["mean_reward"] = scores.Average(),
            ["wall_seconds"] = wall.Elapsed.TotalSeconds,
        };
    }

    /// <summary>
    /// Over consecutive groups of <paramref name="groupSize"/> samples (one problem's), the share of (correct, wrong)
    /// pairs within a group where the correct one scores higher, ties counting ½, and the number of such pairs; the
    /// share is null when no group has both a correct and a wrong sample.
    /// </summary>
    internal static (double? Ranking, long Pairs) WithinGroupRanking(IReadOnlyList<float> scores, IReadOnlyList<bool> labels, int groupSize)
    {
        double wins = 0;
        long pairs = 0;
        for (var g = 0; g < scores.Count; g += groupSize)
            for (var i = g; i < Math.Min(g + groupSize, scores.Count); i++)
            {
                if (!labels[i]) continue;
                for (var j = g; j < Math.Min(g + groupSize, scores.Count); j++)
                {
                    if (labels[j]) continue;
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        return (pairs == 0 ? null : wins / pairs, pairs);
    }

    /// <summary>How often the highest-scored sample of a problem (the first on ties) is correct: best-of-N's accuracy on these samples.</summary>
    internal static double TopScoredAccuracy(IReadOnlyList<float> scores, IReadOnlyList<bool> labels, int groupSize)
    {
        var groups = 0;
        var right = 0;
        for (var g = 0; g < scores.Count; g += groupSize, groups++)
        {
            var best = g;
            for (var i = g + 1; i < Math.Min(g + groupSize, scores.Count); i++) if (scores[i] > scores[best]) best = i;
            if (labels[best]) right++;
        }
        return groups == 0 ? 0 : right / (double)groups;
    }

    /// <summary>ROC AUC = P(score of a correct sample > score of a wrong one), ties counting ½ (Mann–Whitney U / (n₊ n₋)).</summary>
    internal static double? RocAuc(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSumPositive = 0;
        var positives = labels.Count(l => l);
        var negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0) return null;
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            var midRank = (i + j) / 2.0 + 1;
            for (var m = i; m <= j; m++) if (labels[order[m]]) rankSumPositive += midRank;
            i = j + 1;
        }
        return (rankSumPositive - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    private static void PrintText(JsonObject r)
    {
        foreach (var (key, value) in r) Console.Out.WriteLine($"{key,-18} {value?.ToJsonString()}");
    }
}
