using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Best-of-N (Stiennon et al. 2020, "Learning to summarize from human feedback"; TRL's BestOfNSampler): draws
/// y_1 … y_N i.i.d. from the sampling distribution p(· | x) as one batch (each prompt prefilled once, its cache
/// forked N ways), scores them with the reward model and returns ŷ = argmax_i r(x, y_i), ties to the lowest i. Hence
/// P(ŷ = y) = (F(r_y)^N − F⁻(r_y)^N) · p(y) / P(R = r_y), with F (F⁻) the CDF of R = r(x, Y) at (just below) r_y.
/// Voting selectors on the same candidates (answer ans(y) from the task's extractor): majority vote (self-consistency,
/// Wang et al. 2023) â = argmax_a Σ_i 1[ans(y_i) = a] returning the first candidate with â, and reward-weighted vote
/// (Li et al. 2023) â = argmax_a Σ_i softmax(r/β)_i · 1[ans(y_i) = a] returning the highest-reward candidate with â; "no answer"
/// wins only when no candidate has one, ties go to the answer seen first. Early pruning (Speculative Rejection,
/// Sun et al. 2024, "Fast Best-of-N Decoding via Speculative Rejection"): at each token count in PruneAt, each prompt's m running candidates are scored by the prefix
/// scorer and the ⌊α·m⌋ lowest stop, so later compute goes to the promising ones; only survivors are rewarded and selected.
/// </summary>
public sealed class BestOfNStrategy : DecodingStrategy<BestOfNOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options or missing potentials before any model runs.</summary>
    public BestOfNStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, BestOfNOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate();
        if (options.Selector != BestOfNSelector.MajorityVote && potentials.Reward is null)
            throw new ArgumentException($"strategy '{Name}' needs a reward model (Potentials.Reward)");
        if (options.Selector != BestOfNSelector.Argmax && potentials.AnswerExtractor is null)
            throw new ArgumentException($"strategy '{Name}' needs an answer extractor (Potentials.AnswerExtractor)");
        if (Pruning && potentials.PrefixScorer is null)
            throw new ArgumentException($"early pruning (prune-at {string.Join(",", options.PruneAt)}) needs a prefix scorer (Potentials.PrefixScorer)");
    }

    /// <inheritdoc />
    public override string Name => Options.Selector switch
    {
        BestOfNSelector.MajorityVote => "mv",
        BestOfNSelector.WeightedVote => "wmv",
        _ => "bon",
    };

    private bool Pruning => Options.PruneAt.Count > 0;

    /// <summary>
    /// Decodes every prompt; candidate j of prompt i draws with row id i·N + j, so a prompt's candidates do not depend
    /// on the other prompts in the batch. The trace lists all N candidates in order, with Accepted = false for those
    /// pruned early (they have no reward). Majority vote without a reward model returns Reward = null.
    /// </summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        if (prompts.Count == 0) return [];
        var n = Options.N;
        var total = prompts.Count * n;
        using var session = Model.Lm.CreateSession();
        foreach (var p in prompts) session.AddRow(p);
        using var pruner = Pruning
            ? new EarlyPruner(Potentials.PrefixScorer!, Kernels, prompts, n, Options.PruneAt, Options.PruneFraction, session, cancellationToken)
            : null;
        var generator = new RolloutEngine(Model, Kernels, Generation) { AfterStep = pruner is null ? null : pruner.AfterStep };
        var prefill = TimeSpan.Zero;
        GeneratedSequence[] generated;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            session.Forward(cancellationToken);
            prefill = session.Telemetry.LastStep.WallTime;
            session.Select(Enumerable.Range(0, total).Select(c => c / n).ToArray());
            var keys = Enumerable.Range(0, total).Select(c => new SampleKey(c, 0)).ToArray();
            generated = generator.Generate(session, keys, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            generated = Enumerable.Range(0, total).Select(_ => new GeneratedSequence { Finish = FinishReason.Cancelled }).ToArray();
        }

        var survivors = Enumerable.Range(0, total).Where(c => generated[c].Finish != FinishReason.Pruned).ToArray();
        var tally = Potentials.Reward is { } reward ? new RewardTally(reward, Model) : null;
        float[]? rewards = null; // per candidate; NaN for pruned ones
        if (tally is not null && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                var scored = tally.Score(survivors.Select(c => (prompts[c / n], generated[c].Text)).ToArray(), cancellationToken);
                rewards = new float[total];
                Array.Fill(rewards, float.NaN);
                for (var i = 0; i < survivors.Length; i++) rewards[survivors[i]] = scored[i];
            }
            catch (OperationCanceledException)
            {
                rewards = null;
            }
        }
        var answers = Potentials.AnswerExtractor is { } extract && Options.Selector != BestOfNSelector.Argmax
            ? generated.Select(g => g.Finish == FinishReason.Pruned ? null : extract(g.Text)).ToArray()
            : null;
        var chosen = Choose(survivors, n, prompts.Count, rewards, answers);

        wall.Stop();
        var scorerT = pruner?.Telemetry;
        var compute = ComputeMeter.Trace(session, [], generated.Sum(g => (long)g.Tokens.Count), wall.Elapsed, prefill,
            (scorerT?.ModelCalls ?? 0, scorerT?.TokensComputed ?? 0, scorerT?.RuntimeTime ?? TimeSpan.Zero), tally?.Work ?? default);
        var results = new DecodeResult[prompts.Count];
        for (var p = 0; p < prompts.Count; p++)
        {
            var candidates = new CandidateTrace[n];
            for (var j = 0; j < n; j++)
            {
                var c = p * n + j;
                var g = generated[c];
                candidates[j] = new CandidateTrace([.. g.Tokens], g.Text, RewardOf(c), answers?[c], g.Finish != FinishReason.Pruned);
            }
            var best = generated[chosen[p]];
            results[p] = new DecodeResult([.. best.Tokens], best.Text, best.Finish, RewardOf(chosen[p]),
                new DecodeTrace { Strategy = Name, Candidates = candidates, Compute = compute });
        }
        return results;

        double? RewardOf(int c) => rewards is null || float.IsNaN(rewards[c]) ? null : rewards[c];
    }

    /// <summary>The chosen candidate of each prompt, by the selector, among the survivors (one kernel call per decision for all prompts).</summary>
    private int[] Choose(int[] survivors, int n, int promptCount, float[]? rewards, string?[]? answers)
    {
        // Survivors are in candidate order: group offsets by prompt. Every prompt keeps at least one.
        var offsets = new int[promptCount + 1];
        foreach (var c in survivors) offsets[c / n + 1]++;
        for (var p = 0; p < promptCount; p++) offsets[p + 1] += offsets[p];
        var winners = new int[promptCount];
        if (Options.Selector == BestOfNSelector.Argmax || answers is null)
        {
            if (rewards is null) return Enumerable.Range(0, promptCount).Select(p => survivors[offsets[p]]).ToArray(); // cancelled before scoring
            Kernels.GroupArgmax(survivors.Select(c => rewards[c]).ToArray(), offsets, winners);
            return winners.Select(i => survivors[i]).ToArray();
        }

        var ids = new int[survivors.Length];
        for (var p = 0; p < promptCount; p++)
            AnswerIds.Assign(survivors[offsets[p]..offsets[p + 1]].Select(c => answers[c]).ToArray(), ids.AsSpan(offsets[p]));
        var shares = new float[promptCount];
        var weighted = Options.Selector == BestOfNSelector.WeightedVote && rewards is not null;
        var survivorRewards = weighted ? survivors.Select(c => rewards![c]).ToArray() : [];
        Kernels.Vote(ids, survivorRewards, offsets, Options.Beta, winners, shares);
        var chosen = new int[promptCount];
        if (!weighted)
        {
            for (var p = 0; p < promptCount; p++)
                chosen[p] = survivors[Array.IndexOf(ids, winners[p], offsets[p], offsets[p + 1] - offsets[p])];
            return chosen;
        }
        var masked = new float[survivors.Length];
        for (var p = 0; p < promptCount; p++)
            for (var i = offsets[p]; i < offsets[p + 1]; i++)
                masked[i] = ids[i] == winners[p] ? survivorRewards[i] : float.NegativeInfinity;
        var best = new int[promptCount];
        Kernels.GroupArgmax(masked, offsets, best);
        return best.Select(i => survivors[i]).ToArray();
    }
}
