using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Sequential Monte Carlo steering (Lew et al. 2023, "Sequential Monte Carlo Steering of Large Language Models using
/// Probabilistic Programs", as in genlm-control; Puri et al. 2025, "A probabilistic inference approach to inference-time scaling of LLMs using
/// particle-based Monte Carlo methods"). Target: π(y) = p(y)·exp(r(y)/β) / Z with Z = E_p[exp(r(Y)/β)], p the
/// configured sampling distribution (p_LM at temperature 1 without filters) and r the reward model. N particles per
/// prompt are proposed from p one block of tokens at a time and reweighted by the twist ψ (the prefix scorer, ψ ≡ 0
/// without one, ψ(x_{1:0}) = 0): w ← w · exp((ψ(x_{1:t}) − ψ(x_{1:t−1}))/β) while running and
/// w ← w · exp((r(y) − ψ(x_{1:t−1}))/β) when a particle finishes (EOS, stop string, length), so the twists telescope
/// away and the product of increments is exp(r(y)/β). When ESS = 1/Σ W_i² &lt; threshold·N a prompt's particles are
/// resampled (systematic by default) and their weights reset; finished particles stay finished. The estimate
/// Ẑ = Π_{resamplings} (1/N Σ_i w_i) · (1/N Σ_i w_i^final) is unbiased for Z (Naesseth, Lindsten &amp; Schön 2019,
/// "Elements of Sequential Monte Carlo"; Whiteley, Lee &amp; Heine 2016 for adaptive resampling), and Σ_i W_i f(y_i) is consistent
/// for E_π[f]. Returns the highest-weight particle or the weighted vote's answer.
/// </summary>
public sealed class SmcStrategy : DecodingStrategy<SmcOptions>
{
    // Resampling keys live in their own row-id range so they never reuse a particle's token-sampling randoms.
    private const long ResampleRowBase = 1L << 40;


    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options or missing potentials before any model runs.</summary>
    public SmcStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, SmcOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate();
        if (potentials.Reward is null) throw new ArgumentException("strategy 'smc' needs a reward model (Potentials.Reward)");
        if (options.Selection == SmcSelection.WeightedVote && potentials.AnswerExtractor is null)
            throw new ArgumentException("strategy 'smc' with a weighted vote needs an answer extractor (Potentials.AnswerExtractor)");
    }

    /// <inheritdoc />
    public override string Name => "smc";

    /// <summary>Test hook: the incremental weight rule (only the default is correct).</summary>
    internal SmcWeightRule WeightRule { get; init; } = SmcWeightRule.Twisted;

    /// <summary>
    /// Decodes every prompt with its own N particles; particle j of prompt i samples with row id i·N + j and prompt i
    /// resamples with its own key, so a prompt's result does not depend on the rest of the batch. The trace lists the
    /// final particles with their rewards and normalised weights, and log Ẑ (null after a cancellation).
    /// </summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        if (prompts.Count == 0) return [];
        var ct = cancellationToken;
        var n = Options.Particles;
        var total = prompts.Count * n;
        var beta = (double)Options.Beta;
        var info = Model.Lm.Info;
        var engine = new RolloutEngine(Model, Kernels, Generation);
        var eos = Generation.IgnoreEos ? [] : Model.EosTokenIds.ToHashSet();
        var tally = new RewardTally(Potentials.Reward!, Model);

        ResponseTracker NewTracker(int particle) => new(Model, prompts[particle / n], Generation, info.ContextLength, $"prompt {particle / n}", null);
        var particles = Enumerable.Range(0, total).Select(c => new SmcParticle(NewTracker(c))).ToArray();
        var logZ = new double[prompts.Count];

        using var lm = Model.Lm.CreateSession();
        using var scorer = Potentials.PrefixScorer?.CreateSession();
        foreach (var p in prompts)
        {
            lm.AddRow(p);
            scorer?.AddRow(p);
        }
        var prefill = TimeSpan.Zero;
        var cancelled = false;
        long generatedTokens = 0;
        var live = new List<int>(); // particle index of each session row
        try
        {
            ct.ThrowIfCancellationRequested();
            lm.Forward(ct);
            prefill = lm.Telemetry.LastStep.WallTime;
            scorer?.Forward(ct);
            var fork = Enumerable.Range(0, total).Select(c => c / n).ToArray();
            lm.Select(fork);
            scorer?.Select(fork);
            live.AddRange(Enumerable.Range(0, total));
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }

        for (var iteration = 0; live.Count > 0 && !cancelled; iteration++)
        {
            var finished = new List<int>();
            var before = live.Select(c => particles[c].Tokens.Count).ToArray();
            var block = live.ToArray();
            // Particles advance together, so a particle's length is the global step its keys need.
            var running = engine.Advance(lm, scorer is null ? [] : [scorer], block.Select(c => new SampleKey(c, 0)).ToArray(),
                block.Select(c => particles[c].Tracker).ToArray(), Options.BlockSize, ct, i => finished.Add(block[i]));
            for (var i = 0; i < block.Length; i++) generatedTokens += particles[block[i]].Tokens.Count - before[i];
            live = running.Select(i => block[i]).ToList();
            cancelled = live.Any(c => particles[c].Finish == FinishReason.Cancelled);
            if (cancelled) break;

            try
            {
                var rewards = tally.Score(finished.Select(c => (prompts[c / n], particles[c].Text)).ToArray(), ct);
                for (var i = 0; i < finished.Count; i++)
                {
                    var particle = particles[finished[i]];
                    particle.Reward = rewards[i];
                    var kept = WeightRule == SmcWeightRule.Twisted ? particle.Psi : 0;
                    particle.LogWeight += (rewards[i] - kept) / beta;
                }
                if (scorer is not null && live.Count > 0)
                {
                    var psi = scorer.Forward(ct);
                    for (var i = 0; i < live.Count; i++)
                    {
                        var particle = particles[live[i]];
                        var now = (double)psi.Row(i)[0];
                        particle.LogWeight += (now - (WeightRule == SmcWeightRule.NoTwistSubtraction ? 0 : particle.Psi)) / beta;
                        particle.Psi = now;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
                break;
            }
            if (live.Count > 0) live = Resample(particles, live, logZ, iteration, lm, scorer);
        }

        if (cancelled)
            foreach (var particle in particles.Where(x => x.Finish is null))
                particle.Tracker.Finish(FinishReason.Cancelled);
        else
            for (var p = 0; p < prompts.Count; p++) logZ[p] += LogMeanExp(particles.AsSpan(p * n, n));

        var weights = Normalise(particles, prompts.Count);
        var answers = Options.Selection == SmcSelection.WeightedVote ? particles.Select(x => Potentials.AnswerExtractor!(x.Text)).ToArray() : null;
        var chosen = Choose(particles, weights, answers, prompts.Count);

        wall.Stop();
        var compute = ComputeMeter.Trace(lm, scorer is null ? [] : [scorer], generatedTokens, wall.Elapsed, prefill, tally.Work);
        var results = new DecodeResult[prompts.Count];
        for (var p = 0; p < prompts.Count; p++)
        {
            var candidates = new CandidateTrace[n];
            for (var j = 0; j < n; j++)
            {
                var x = particles[p * n + j];
                candidates[j] = new CandidateTrace([.. x.Tokens], x.Text, x.Reward, answers?[p * n + j]) { Weight = weights[p * n + j] };
            }
            var best = particles[chosen[p]];
            results[p] = new DecodeResult([.. best.Tokens], best.Text, best.Finish!.Value, best.Reward,
                new DecodeTrace { Strategy = Name, Candidates = candidates, Compute = compute, LogNormalizer = cancelled ? null : logZ[p] });
        }
        return results;
    }

    /// <summary>
    /// Resamples, in one kernel call, every prompt that still has running particles and whose ESS fell below the
    /// threshold; adds log(mean weight) to its log Z and resets its weights. Rebuilds both sessions to hold the
    /// running particles in particle order and returns the new row → particle map.
    /// </summary>
    private List<int> Resample(SmcParticle[] particles, List<int> live, double[] logZ, int iteration,
        IDecoderSession lm, IDecoderSession? scorer)
    {
        var n = Options.Particles;
        var groups = live.Select(c => c / n).Distinct().ToArray();
        var normalised = Normalise(particles, groups);
        var offsets = Enumerable.Range(0, groups.Length + 1).Select(g => g * n).ToArray();
        var ess = new float[groups.Length];
        Kernels.EffectiveSampleSize(normalised, offsets, ess);
        var due = Enumerable.Range(0, groups.Length).Where(g => ess[g] < Options.EssThreshold * n).ToArray();
        if (due.Length == 0) return live;

        var weights = new float[due.Length * n];
        for (var d = 0; d < due.Length; d++) normalised.AsSpan(due[d] * n, n).CopyTo(weights.AsSpan(d * n));
        var keys = due.Select(d => new SampleKey(ResampleRowBase + groups[d], iteration)).ToArray();
        var ancestors = new int[weights.Length];
        Kernels.Resample(weights, Enumerable.Range(0, due.Length + 1).Select(d => d * n).ToArray(), Options.Resampling, Generation.Sampling.Seed, keys, ancestors);

        var source = Enumerable.Range(0, particles.Length).ToArray(); // particle → ancestor particle
        var old = (SmcParticle[])particles.Clone();
        for (var d = 0; d < due.Length; d++)
        {
            var p = groups[due[d]];
            logZ[p] += LogMeanExp(old.AsSpan(p * n, n));
            var used = new HashSet<int>();
            for (var j = 0; j < n; j++)
            {
                var ancestor = p * n + (ancestors[d * n + j] - d * n);
                source[p * n + j] = ancestor;
                var child = used.Add(ancestor) ? old[ancestor] : old[ancestor].Clone();
                particles[p * n + j] = child;
            }
            // Moved ancestors are shared objects until here; reset weights only after every slot is filled.
            for (var j = 0; j < n; j++) particles[p * n + j].LogWeight = 0;
        }

        var rowOf = new Dictionary<int, int>();
        for (var i = 0; i < live.Count; i++) rowOf[live[i]] = i;
        var newLive = Enumerable.Range(0, particles.Length).Where(c => particles[c].Finish is null).ToList();
        var rows = newLive.Select(c => rowOf[source[c]]).ToArray();
        lm.Select(rows);
        scorer?.Select(rows);
        return newLive;
    }

    /// <summary>Normalised weights W = softmax(log w) of the given prompts' particles, via the kernels (one row of N per prompt).</summary>
    private float[] Normalise(SmcParticle[] particles, IReadOnlyList<int> prompts)
    {
        var n = Options.Particles;
        var logW = new float[prompts.Count * n];
        for (var g = 0; g < prompts.Count; g++)
            for (var j = 0; j < n; j++) logW[g * n + j] = (float)particles[prompts[g] * n + j].LogWeight;
        var w = new float[logW.Length];
        Kernels.Softmax(logW, n, w);
        return w;
    }

    private float[] Normalise(SmcParticle[] particles, int promptCount) => Normalise(particles, Enumerable.Range(0, promptCount).ToArray());

    private static double LogMeanExp(ReadOnlySpan<SmcParticle> group)
    {
        var max = double.NegativeInfinity;
        foreach (var x in group) max = Math.Max(max, x.LogWeight);
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (var x in group) sum += Math.Exp(x.LogWeight - max);
        return max + Math.Log(sum / group.Length);
    }

    /// <summary>The returned particle of each prompt: highest weight, or the weighted vote's answer then its highest-weight particle.</summary>
    private int[] Choose(SmcParticle[] particles, float[] weights, string?[]? answers, int promptCount)
    {
        var n = Options.Particles;
        var offsets = Enumerable.Range(0, promptCount + 1).Select(p => p * n).ToArray();
        var best = new int[promptCount];
        if (answers is null)
        {
            Kernels.GroupArgmax(weights, offsets, best);
            return best;
        }
        var ids = new int[particles.Length];
        for (var p = 0; p < promptCount; p++) AnswerIds.Assign(answers[(p * n)..((p + 1) * n)], ids.AsSpan(p * n, n));
        // softmax(log w / 1) is W, so the vote's mass per answer is Σ_i W_i.
        var logW = particles.Select(x => (float)x.LogWeight).ToArray();
        var winners = new int[promptCount];
        Kernels.Vote(ids, logW, offsets, 1f, winners, new float[promptCount]);
        var masked = new float[particles.Length];
        for (var c = 0; c < particles.Length; c++) masked[c] = ids[c] == winners[c / n] ? weights[c] : float.NegativeInfinity;
        Kernels.GroupArgmax(masked, offsets, best);
        return best;
    }
}
