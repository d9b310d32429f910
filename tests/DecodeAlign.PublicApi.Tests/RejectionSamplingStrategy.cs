using System.Diagnostics;
using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;

namespace DecodeAlign.PublicApi.Tests;

/// <summary>
/// Rejection sampling against a reward threshold, written with the public API only: draw up to N responses per prompt
/// in one batch with the rollout engine, score them with the reward, return the first whose reward reaches τ, or the
/// best one when none does. What a user who wants "good enough, cheapest first" would write.
/// </summary>
public sealed class RejectionSamplingStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, int tries, float threshold)
    : IDecodingStrategy
{
    /// <summary>The catalog entry a host application would register next to the built-in ones.</summary>
    public static StrategyEntry Entry { get; } = new()
    {
        Name = "rejection",
        Summary = "Rejection sampling: the first of N samples whose reward reaches τ, else the best.",
        Requires = [PotentialRole.Reward],
        Budget = "samples",
        Options = [new("n", StrategyOptionKind.Int, "8", "samples drawn per prompt"), new("threshold", StrategyOptionKind.Float, "0", "reward τ a sample must reach")],
        Factory = (r, o) => new RejectionSamplingStrategy(r.Model, r.Kernels, r.Generation, r.Potentials, o.Int("n"), o.Float("threshold")),
    };

    /// <inheritdoc />
    public string Name => "rejection";

    /// <inheritdoc />
    public IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        using var session = model.Lm.CreateSession();
        foreach (var p in prompts)
            for (var j = 0; j < tries; j++) session.AddRow(p);
        var engine = new RolloutEngine(model, kernels, generation);
        // Row p·N + j draws with row id p·N + j: sample 0 of prompt 0 is what plain sampling draws for it.
        var keys = Enumerable.Range(0, prompts.Count * tries).Select(i => new SampleKey(i, 0)).ToArray();
        var generated = engine.Generate(session, keys, cancellationToken);
        var tally = new RewardTally(potentials.Reward ?? throw new ArgumentException("rejection sampling needs a reward"), model);
        var rewards = tally.Score(generated.Select((g, i) => (prompts[i / tries], g.Text)).ToArray(), cancellationToken);
        wall.Stop();
        var compute = ComputeMeter.Trace(session, [], generated.Sum(g => (long)g.Tokens.Count), wall.Elapsed, engine.PrefillTime, (tally.Calls, tally.Rows, tally.Time));
        var results = new DecodeResult[prompts.Count];
        for (var p = 0; p < prompts.Count; p++)
        {
            var range = Enumerable.Range(p * tries, tries).ToArray();
            var chosen = range.FirstOrDefault(i => rewards[i] >= threshold, range.MaxBy(i => rewards[i]));
            var candidates = range.Select(i => new CandidateTrace([.. generated[i].Tokens], generated[i].Text, rewards[i], Accepted: i == chosen)).ToArray();
            results[p] = new DecodeResult([.. generated[chosen].Tokens], generated[chosen].Text, generated[chosen].Finish, rewards[chosen],
                new DecodeTrace { Strategy = Name, Candidates = candidates, Compute = compute });
        }
        return results;
    }
}
