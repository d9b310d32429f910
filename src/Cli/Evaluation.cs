using System.Diagnostics;
using DecodeAlign.Decoding;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Cli;

/// <summary>What one strategy did on a task's problems: accuracy by the checker, the reward of its responses and the compute it spent.</summary>
/// <remarks><see cref="Cancelled"/>: the run was stopped early; the figures cover the <see cref="Problems"/> finished before it.</remarks>
internal sealed record EvaluationTotals(string Strategy, int Problems, int Correct, double? MeanReward, long LmTokens, long LmCalls,
    long RmTokens, long RmCalls, long GeneratedTokens, double WallSeconds, double? AcceptanceRate, bool Cancelled = false)
{
    public double Accuracy => (double)Correct / Problems;
}

/// <summary>Runs a strategy over a task's problems in batches (shared by eval and compare).</summary>
internal static class Evaluation
{
    /// <summary>
    /// Each batch of problems draws with seed (seed + first problem index), so a run is reproducible for a given
    /// batch size and different batches never share random streams.
    /// </summary>
    public static ulong BatchSeed(ulong seed, int first) => seed + (ulong)first * 0x9E3779B97F4A7C15UL;

    /// <summary>
    /// Decodes the first <paramref name="count"/> problems of the split; responses the strategy did not score are scored
    /// afterwards with the bundle's reward for the report only (not counted as the strategy's compute).
    /// <paramref name="progress"/> receives the number of problems done after each batch. Cancellation stops within one
    /// decoding step; the batch in flight is dropped and the totals, marked cancelled, cover the batches that finished.
    /// </summary>
    public static EvaluationTotals Run(IEvalTask task, Split split, int count, int batchSize, StrategySettings settings, AlignmentModels models,
        ITokenKernels kernels, Potentials potentials, CancellationToken ct, Action<int>? progress = null)
    {
        var wall = Stopwatch.StartNew();
        var correct = 0;
        var done = 0;
        long lmTokens = 0, lmCalls = 0, rmTokens = 0, rmCalls = 0, generated = 0;
        var rewards = new List<double>();
        var acceptance = new List<double>();
        var unscored = new List<RewardQuery>();
        string? strategyName = null;
        // Problems are generated batch by batch, so a large --problems never builds them all first.
        var cancelled = false;
        foreach (var chunk in task.Problems(split, count).Chunk(batchSize))
        {
            var strategy = settings.WithSeed(BatchSeed(settings.Generation.Sampling.Seed, done)).Create(models, kernels, potentials);
            strategyName = strategy.Name;
            var prompts = chunk.Select(p => models.Lm.EncodePrompt(task.Prompt(p))).ToArray();
            var results = ct.IsCancellationRequested ? null : strategy.Decode(prompts, ct);
            // A cancelled batch holds partial responses; grading them would count unfinished work.
            if (results is null || ct.IsCancellationRequested)
            {
                cancelled = true;
                break;
            }
            for (var i = 0; i < chunk.Length; i++)
            {
                if (task.IsCorrect(chunk[i], results[i].Text)) correct++;
                if (results[i].Reward is double r) rewards.Add(r);
                else unscored.Add(new RewardQuery(task.Prompt(chunk[i]), results[i].Text));
                if (results[i].Trace.AcceptanceRate is double a) acceptance.Add(a);
            }
            // Results of one batch share its compute trace.
            var c = results[0].Trace.Compute;
            lmTokens += c.LmTokens;
            lmCalls += c.LmCalls;
            rmTokens += c.RewardTokens;
            rmCalls += c.RewardCalls;
            generated += c.GeneratedTokens;
            done += chunk.Length;
            progress?.Invoke(done);
        }
        wall.Stop();
        // A cancelled run reports what finished and returns at once, so its unscored responses stay unscored (mean reward null).
        if (!cancelled && models.Reward is not null && unscored.Count > 0) rewards.AddRange(models.Reward.Score(unscored, ct).Select(x => (double)x));
        return new EvaluationTotals(strategyName ?? settings.Name, done, correct, rewards.Count == done && done > 0 ? rewards.Average() : null,
            lmTokens, lmCalls, rmTokens, rmCalls, generated, wall.Elapsed.TotalSeconds, acceptance.Count > 0 ? acceptance.Average() : null, cancelled);
    }

    /// <summary>
    /// <paramref name="perProblem"/> samples of each of the first <paramref name="count"/> problems, batch by batch with
    /// each batch's seed as in <see cref="Run"/>; a problem's prompt is repeated and each repeat draws with its own row
    /// key, so the samples are independent. What the reward report and rm-bench grade.
    /// </summary>
    public static IEnumerable<(Problem Problem, string[] Texts)> Samples(IEvalTask task, Split split, int count, int perProblem, int batchSize,
        StrategySettings settings, AlignmentModels models, ITokenKernels kernels, CancellationToken ct)
    {
        var done = 0;
        foreach (var chunk in task.Problems(split, count).Chunk(batchSize))
        {
            var strategy = settings.WithSeed(BatchSeed(settings.Generation.Sampling.Seed, done)).Create(models, kernels, Potentials.None);
            var results = strategy.Decode(chunk.SelectMany(p => Enumerable.Repeat(models.Lm.EncodePrompt(task.Prompt(p)), perProblem)).ToArray(), ct);
            // Partial samples of a cancelled batch are not samples of the LM: stop rather than grade them.
            ct.ThrowIfCancellationRequested();
            for (var i = 0; i < chunk.Length; i++)
                yield return (chunk[i], results.Skip(i * perProblem).Take(perProblem).Select(r => r.Text).ToArray());
            done += chunk.Length;
        }
    }
}
