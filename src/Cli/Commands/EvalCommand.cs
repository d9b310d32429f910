using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
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
        var task = new Option<string>("--task") { Description = "Task (arith).", DefaultValueFactory = _ => "arith" };
        var strategies = new StrategyOptions();
        var problems = new Option<int>("--problems") { Description = "Number of problems (from the start of the split; 1000 with --reward-report, whose AUC needs the samples).", DefaultValueFactory = _ => 100 };
        var split = new Option<string>("--split") { Description = "test or validation.", DefaultValueFactory = _ => "test" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0UL };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature of the base LM.", DefaultValueFactory = _ => 1f };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Maximum tokens per response.", DefaultValueFactory = _ => 96 };
        var batch = new Option<int>("--batch") { Description = "Problems decoded together in one batch.", DefaultValueFactory = _ => 16 };
        var model = new Option<string?>("--model") { Description = "LM folder (default: built-in models/arith/lm)." };
        var reward = new Option<string?>("--reward") { Description = "Reward model folder (default: built-in with the built-in LM)." };
        var value = new Option<string?>("--value") { Description = "Value model folder (default: built-in with the built-in LM)." };
        var rewardReport = new Option<bool>("--reward-report") { Description = "Report the reward model's ROC AUC and accuracy at 0.5 on fresh base-model samples instead." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var cmd = new Command("eval", "Evaluate a decoding strategy on a built-in task.")
        {
            task, problems, split, seed, temperature, maxNew, batch, model, reward, value, rewardReport, json,
        };
        strategies.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction((pr, ct) =>
        {
            var t = TaskRegistry.Get(pr.GetValue(task)!);
            var s = Splits.Parse(pr.GetValue(split)!);
            if (s == Split.Train) throw new CliUsageException("--split must be test or validation (the models were trained on train).");
            var report = pr.GetValue(rewardReport);
            // An AUC over 100 samples moves by several points between seeds; the report's default is 1000 (about 10 s).
            var count = report && (pr.GetResult(problems)?.Implicit ?? true) ? 1000 : pr.GetValue(problems);
            if (count < 1) throw new CliUsageException($"--problems must be >= 1 (got {count}).");
            var batchSize = pr.GetValue(batch);
            if (batchSize < 1) throw new CliUsageException($"--batch must be >= 1 (got {batchSize}).");
            var generation = new GenerationOptions
            {
                MaxNewTokens = pr.GetValue(maxNew),
                Sampling = new SamplingParameters { Temperature = pr.GetValue(temperature), Seed = pr.GetValue(seed) },
            };
            generation.Validate();
            var settings = strategies.Read(pr, generation, report ? "sample" : null, temperature);

            using var kernels = common.CreateKernels(pr);
            var needReward = report || StrategyFactory.NeedsReward(settings.Name) || StrategyFactory.NeedsPrefixScorer(settings.Name) || settings.PruneAt.Count > 0
                || pr.GetValue(reward) is not null || pr.GetValue(model) is null;
            using var models = AlignmentModels.Load(pr.GetValue(model), pr.GetValue(reward), pr.GetValue(value), common.ModelOptions(pr),
                needReward, StrategyFactory.NeedsValue(settings.Name));
            var potentials = Potentials(models, settings, t);
            var result = report
                ? RewardReport(t, s, count, batchSize, settings, models, kernels, ct)
                : Evaluate(t, s, count, batchSize, settings, models, kernels, potentials, ct);
            result["task"] = t.Name;
            result["split"] = s.Name();
            result["seed"] = settings.Generation.Sampling.Seed;
            if (pr.GetValue(json)) Console.Out.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            else PrintText(result);
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Potentials Potentials(AlignmentModels m, StrategySettings s, IEvalTask task) => new()
    {
        Reward = m.Reward,
        PrefixScorer = m.Reward,
        Values = m.Value is null ? [] : [new WeightedValueModel(m.Value, s.Beta)],
        AnswerExtractor = task.ExtractAnswer,
    };

    /// <summary>
    /// Each batch of problems draws with seed (seed + first problem index), so a run is reproducible for a given
    /// --batch and different batches never share random streams.
    /// </summary>
    private static ulong BatchSeed(ulong seed, int first) => seed + (ulong)first * 0x9E3779B97F4A7C15UL;

    private static JsonObject Evaluate(IEvalTask task, Split split, int count, int batchSize, StrategySettings settings, AlignmentModels models,
        ITokenKernels kernels, Potentials potentials, CancellationToken ct)
    {
        var wall = Stopwatch.StartNew();
        var problems = task.Problems(split, count).ToArray();
        var correct = 0;
        long lmTokens = 0, lmCalls = 0, rmTokens = 0, rmCalls = 0, generated = 0;
        var rewards = new List<double>();
        var unscored = new List<RewardQuery>();
        string? strategyName = null;
        for (var start = 0; start < problems.Length; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = problems.Skip(start).Take(batchSize).ToArray();
            var s = settings with { Generation = settings.Generation with { Sampling = settings.Generation.Sampling with { Seed = BatchSeed(settings.Generation.Sampling.Seed, start) } } };
            var strategy = StrategyFactory.Create(s, models, kernels, potentials);
            strategyName = strategy.Name;
            var prompts = chunk.Select(p => models.Lm.EncodePrompt(task.Prompt(p))).ToArray();
            var results = strategy.Decode(prompts, ct);
            for (var i = 0; i < chunk.Length; i++)
            {
                if (task.IsCorrect(chunk[i], results[i].Text)) correct++;
                if (results[i].Reward is double r) rewards.Add(r);
                else unscored.Add(new RewardQuery(task.Prompt(chunk[i]), results[i].Text));
            }
            // Results of one batch share its compute trace.
            var c = results[0].Trace.Compute;
            lmTokens += c.LmTokens;
            lmCalls += c.LmCalls;
            rmTokens += c.RewardTokens;
            rmCalls += c.RewardCalls;
            generated += c.GeneratedTokens;
        }
        wall.Stop();
        // Responses the strategy did not score are scored afterwards for the report only (not counted as its compute).
        if (models.Reward is not null && unscored.Count > 0) rewards.AddRange(models.Reward.Score(unscored, ct).Select(x => (double)x));
        return new JsonObject
        {
            ["strategy"] = strategyName,
            ["n"] = settings.N,
            ["problems"] = problems.Length,
            ["correct"] = correct,
            ["accuracy"] = (double)correct / problems.Length,
            ["mean_reward"] = rewards.Count == problems.Length ? rewards.Average() : null,
            ["lm_tokens"] = lmTokens,
            ["lm_calls"] = lmCalls,
            ["rm_tokens"] = rmTokens,
            ["rm_calls"] = rmCalls,
            ["generated_tokens"] = generated,
            ["wall_seconds"] = wall.Elapsed.TotalSeconds,
        };
    }

    private static JsonObject RewardReport(IEvalTask task, Split split, int count, int batchSize, StrategySettings settings, AlignmentModels models,
        ITokenKernels kernels, CancellationToken ct)
    {
        var wall = Stopwatch.StartNew();
        var problems = task.Problems(split, count).ToArray();
        var labels = new List<bool>();
        var queries = new List<RewardQuery>();
        for (var start = 0; start < problems.Length; start += batchSize)
        {
            var chunk = problems.Skip(start).Take(batchSize).ToArray();
            var s = settings with { Generation = settings.Generation with { Sampling = settings.Generation.Sampling with { Seed = BatchSeed(settings.Generation.Sampling.Seed, start) } } };
            var results = StrategyFactory.Create(s, models, kernels, Decoding.Potentials.None).Decode(chunk.Select(p => models.Lm.EncodePrompt(task.Prompt(p))).ToArray(), ct);
            for (var i = 0; i < chunk.Length; i++)
            {
                labels.Add(task.IsCorrect(chunk[i], results[i].Text));
                queries.Add(new RewardQuery(task.Prompt(chunk[i]), results[i].Text));
            }
        }
        var scores = models.Reward!.Score(queries, ct);
        var predictedRight = scores.Zip(labels).Count(x => (x.First >= 0) == x.Second);
        return new JsonObject
        {
            ["reward_model"] = models.Reward.Source,
            ["samples"] = labels.Count,
            ["base_accuracy"] = labels.Count(l => l) / (double)labels.Count,
            ["auc"] = RocAuc(scores, labels),
            ["accuracy_at_0_5"] = predictedRight / (double)labels.Count,
            ["mean_reward"] = scores.Average(),
            ["wall_seconds"] = wall.Elapsed.TotalSeconds,
        };
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
