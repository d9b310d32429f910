using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// DeAL, decoding as heuristic-guided search (Huang et al. 2024, "DeAL: Decoding-time Alignment for Large Language
/// Models"). Each prompt keeps b beams. At every step each unfinished beam y₁..t−1 proposes its k most likely next
/// tokens; from each candidate y₁..t a lookahead of l tokens is rolled out (greedy by default) and the candidate is
/// scored c = log P(y₁..t | x) + λ·h(y₁..t+l), with h any reward (a learned prefix scorer, a programmatic reward or a
/// weighted composition, per request). The b best of the candidates and the beams that already finished (which keep
/// their c) become the new beams; the search ends when every kept beam has finished, and returns the best.
/// With l = 0 and λ = 0 this is beam search on log P. All beams of all prompts advance in one LM call per step; every
/// candidate's lookahead runs in one batched call per token (<see cref="RowExtender"/>) and is truncated back after
/// scoring, never recomputed; the heuristic scores all candidates in one call (<see cref="ExtensionScorer"/>).
/// </summary>
public sealed class DealStrategy : DecodingStrategy<DealOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options or a missing heuristic before any model runs.</summary>
    public DealStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, DealOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate(model.Lm.Info.VocabSize);
        if (options.Lambda > 0 && potentials.PrefixScorer is null && potentials.Reward is null)
            throw new ArgumentException("strategy 'deal' with lambda > 0 needs a heuristic: a prefix scorer (Potentials.PrefixScorer) or a reward model (Potentials.Reward)");
        if (options.Lambda > 0 && potentials.PrefixScorer is { } scorer)
            GuideChecks.SameTokenSpace("deal", "prefix scorer", scorer.Info, model.Lm.Info, DecoderOutputKind.Scores);
    }

    /// <inheritdoc />
    public override string Name => "deal";

    /// <summary>A hypothesis: its response tokens, log P, heuristic h, c, and (once kept) its stop-rule state.</summary>
    private sealed record Beam(int Prompt, int[] Tokens, double LogP, double H, double Score)
    {
        public int Rank { get; init; }

        public ResponseTracker? Tracker { get; init; }

        public bool Done => Tracker?.Done ?? false;
    }

    /// <summary>
    /// Decodes every prompt. Lookahead j of beam r of prompt i draws with row id (i·b + r)·k + j, so a prompt's search
    /// does not depend on the other prompts in the batch. The trace lists the final beams, best first, with their h.
    /// </summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        var (k, b, lambda, l) = (Options.TopK, Options.Beams, Options.Lambda, Options.Lookahead);
        using var lm = Model.Lm.CreateSession();
        using var heuristic = lambda > 0 ? new ExtensionScorer(Model, Potentials.PrefixScorer, Potentials.Reward) : null;
        var context = Math.Min(lm.Info.ContextLength, heuristic?.Session?.Info.ContextLength ?? int.MaxValue);
        var room = new int[prompts.Count];
        for (var p = 0; p < prompts.Count; p++)
        {
            room[p] = Math.Min(Generation.MaxNewTokens, context - prompts[p].Length);
            if (room[p] < 1) throw new ContextLengthExceededException(prompts[p].Length + 1, context, $"prompt {p} plus one generated token");
        }
        var vocab = lm.Info.VocabSize;
        IReadOnlySet<int> eos = Generation.IgnoreEos ? new HashSet<int>() : Model.EosTokenIds.ToHashSet();
        var lookahead = Generation.Sampling with { Temperature = Options.LookaheadTemperature };
        var pools = prompts.Select((prompt, p) => new List<Beam> { new(p, [], 0, 0, 0) { Tracker = new ResponseTracker(Model, prompt, Generation, context, $"prompt {p}", null) } }).ToArray();
        var live = pools.Select(pool => pool[0]).ToList(); // session row i holds live[i]
        foreach (var p in prompts)
        {
            lm.AddRow(p);
            heuristic?.Session?.AddRow(p);
        }
        long generated = 0;
        var prefill = TimeSpan.Zero;
        var cancelled = false;
        try
        {
            for (var step = 0; live.Count > 0; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var calls = lm.Telemetry.ModelCalls;
                var logits = lm.Forward(cancellationToken);
                if (step == 0 && lm.Telemetry.ModelCalls > calls) prefill = lm.Telemetry.LastStep.WallTime;
                var n = live.Count;
                var logProbs = new float[n * vocab];
                Kernels.LogSoftmax(logits.Values.Span[..(n * vocab)], vocab, logProbs);
                var ids = new int[n * k];
                var lps = new float[n * k];
                Kernels.TopK(logProbs, vocab, k, ids, lps);

                // Candidate c = i·k + j is session row c: beam i forked k ways, extended by its j-th token.
                lm.Select(Enumerable.Range(0, n * k).Select(c => c / k).ToArray());
                var laRows = new List<int>();
                var laBudgets = new List<int>();
                var laKeys = new List<SampleKey>();
                for (var c = 0; c < n * k; c++)
                {
                    var beam = live[c / k];
                    if (float.IsNegativeInfinity(lps[c]) || eos.Contains(ids[c])) continue;
                    lm.Append(c, [ids[c]]);
                    var left = Math.Min(l, room[beam.Prompt] - beam.Tokens.Length - 1);
                    if (lambda == 0 || left <= 0) continue; // with λ = 0 the lookahead cannot change c
                    laRows.Add(c);
                    laBudgets.Add(left);
                    laKeys.Add(new SampleKey(((long)beam.Prompt * b + beam.Rank) * k + c % k, step * (l + 1)));
                }
                var runs = Enumerable.Range(0, n * k).Select(c => eos.Contains(ids[c]) ? Array.Empty<int>() : [ids[c]]).ToArray();
                var ended = Enumerable.Range(0, n * k).Select(c => eos.Contains(ids[c])).ToArray();
                var extensions = RowExtender.Extend(lm, Kernels, [.. laRows], [.. laBudgets], lookahead, [.. laKeys], eos, cancellationToken);
                for (var i = 0; i < laRows.Count; i++)
                {
                    runs[laRows[i]] = [.. runs[laRows[i]], .. extensions[i].Tokens];
                    ended[laRows[i]] = extensions[i].EndedWithEos;
                    generated += extensions[i].Tokens.Length;
                }
                generated += n * k;

                var h = new float[n * k];
                if (heuristic is not null)
                {
                    var anchors = Enumerable.Range(0, n * k).Select(c => c / k).ToArray();
                    var prefixes = anchors.Select(i => (int[])[.. prompts[live[i].Prompt], .. live[i].Tokens]).ToArray();
                    var promptLengths = anchors.Select(i => prompts[live[i].Prompt].Length).ToArray();
                    h = heuristic.Score(anchors, prefixes, promptLengths, runs, ended, cancellationToken);
                }

                // The new pool of each prompt: its finished beams and its live beams' candidates, best c first (ties keep pool order).
                var next = new List<(Beam Beam, int Row, int Parent)>();
                for (var p = 0; p < prompts.Count; p++)
                {
                    if (pools[p].All(x => x.Done)) continue;
                    var pool = pools[p].Where(x => x.Done).Select(x => (Beam: x, Row: -1, Parent: -1)).ToList();
                    for (var c = 0; c < n * k; c++)
                    {
                        var parent = live[c / k];
                        if (parent.Prompt != p || float.IsNegativeInfinity(lps[c])) continue;
                        var isEos = eos.Contains(ids[c]);
                        var tokens = isEos ? parent.Tokens : [.. parent.Tokens, ids[c]];
                        var logP = parent.LogP + lps[c];
                        pool.Add((new Beam(p, tokens, logP, h[c], logP + lambda * (double)h[c]), c, c / k));
                    }
                    // Kept candidates take their parent's stop-rule state and add their token: EOS, the budget or a stop string ends them.
                    var kept = pool.OrderByDescending(x => x.Beam.Score).Take(b).Select((x, rank) => (Beam: x.Row < 0 ? x.Beam with { Rank = rank } : x.Beam with
                    {
                        Rank = rank,
                        Tracker = Extend(live[x.Parent].Tracker!, ids[x.Row]),
                    }, x.Row, x.Parent)).ToList();
                    pools[p] = kept.Select(x => x.Beam).ToList();
                    next.AddRange(kept.Where(x => !x.Beam.Done));
                }

                // Keep the chosen candidates' rows, cut back to the candidate (the lookahead is dropped, its prefix cache kept).
                lm.Select(next.Select(x => x.Row).ToArray());
                heuristic?.Session?.Select(next.Select(x => x.Parent).ToArray());
                for (var i = 0; i < next.Count; i++)
                {
                    var beam = next[i].Beam;
                    lm.Truncate(i, prompts[beam.Prompt].Length + beam.Tokens.Length);
                    heuristic?.Session?.Append(i, [beam.Tokens[^1]]);
                }
                live = next.Select(x => x.Beam).ToList();
            }
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }

        wall.Stop();
        var compute = ComputeMeter.Trace(lm, heuristic?.Session is { } scorerSession ? [scorerSession] : [], generated, wall.Elapsed, prefill, heuristic?.TextWork ?? default);
        var results = new DecodeResult[prompts.Count];
        for (var p = 0; p < prompts.Count; p++)
        {
            foreach (var beam in pools[p].Where(x => !x.Done)) beam.Tracker!.Finish(cancelled ? FinishReason.Cancelled : FinishReason.MaxTokens);
            var finals = pools[p].OrderByDescending(x => x.Score).Select(x => (Beam: x, Response: x.Tracker!.Result)).ToList();
            var best = finals[0];
            double? reward = heuristic is null ? null : best.Beam.H;
            results[p] = new DecodeResult([.. best.Response.Tokens], best.Response.Text, best.Response.Finish, reward, new DecodeTrace
            {
                Strategy = Name,
                Compute = compute,
                Candidates = finals.Select(x => new CandidateTrace([.. x.Response.Tokens], x.Response.Text, heuristic is null ? null : x.Beam.H)).ToArray(),
            });
        }
        return results;

        ResponseTracker Extend(ResponseTracker parent, int token)
        {
            var tracker = parent.Fork();
            tracker.Add(token, eos);
            return tracker;
        }
    }
}
