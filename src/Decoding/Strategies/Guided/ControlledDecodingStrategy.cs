using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Blockwise controlled decoding (Mudgal et al. 2024, "Controlled Decoding from Language Models", blockwise best-of-K):
/// from the response so far y, sample K continuations z_1 … z_K of M tokens from the LM (with the sampling options of
/// <see cref="GenerationOptions.Sampling"/>), keep z* = argmax_j R([x, y, z_j]) by the prefix scorer R (lowest j on
/// ties), append it and repeat until the kept block ends the response (EOS, a stop string or the token budget).
/// All rows of all prompts advance as one batch: the K continuations are forks of the row's LM and scorer caches,
/// sampled with one LM call per token, and all continuations of all rows are scored by one scorer call per block.
/// The trace lists every continuation (the response up to its end, its reward, and whether it was kept);
/// a result's reward is R of its whole response.
/// </summary>
public sealed class ControlledDecodingStrategy : DecodingStrategy<ControlledDecodingOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options or a missing or mismatched prefix scorer, before any model runs.</summary>
    public ControlledDecodingStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, ControlledDecodingOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate();
        var scorer = potentials.PrefixScorer ?? throw new ArgumentException("strategy 'blockwise' needs a prefix scorer (Potentials.PrefixScorer)");
        GuideChecks.SameTokenSpace("blockwise", "prefix scorer", scorer.Info, model.Lm.Info, DecoderOutputKind.Scores);
    }

    /// <inheritdoc />
    public override string Name => "blockwise";

    /// <summary>Receives (prompt index, text) as each response's text becomes final (a kept block at a time), for streaming to a console.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>
    /// Decodes every prompt; continuation j of prompt i draws with row id i·K + j and step = its token's index in
    /// the response, so a prompt's response does not depend on the batch it runs in.
    /// </summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        using var lm = Model.Lm.CreateSession();
        using var scorer = Potentials.PrefixScorer!.CreateSession();
        foreach (var p in prompts)
        {
            lm.AddRow(p);
            scorer.AddRow(p);
        }
        var context = Math.Min(lm.Info.ContextLength, scorer.Info.ContextLength);
        var rows = prompts.Select((p, r) => new RowState(new ResponseTracker(Model, p, Generation, context, $"row {r}",
            OnText is null ? null : text => OnText(r, text)))).ToArray();

        var live = Enumerable.Range(0, rows.Length).ToList(); // live[i] = prompt index of session row i
        var prefill = TimeSpan.Zero;
        long generatedTokens = 0;
        var engine = new RolloutEngine(Model, Kernels, Generation);
        while (live.Count > 0)
        {
            Block block;
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var first = lm.Telemetry.ModelCalls;
                lm.Forward(cancellationToken);
                if (first == 0 && lm.Telemetry.ModelCalls > 0) prefill = lm.Telemetry.LastStep.WallTime;
                block = RunBlock(engine, lm, scorer, rows, live, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                foreach (var r in live) rows[r].Tracker.Finish(FinishReason.Cancelled);
                break;
            }
            generatedTokens += block.Tokens.Sum(t => t.Count);
            live = KeepWinners(lm, scorer, rows, live, block);
        }
        wall.Stop();
        var compute = ComputeMeter.Trace(lm, [scorer], generatedTokens, wall.Elapsed, prefill);
        return rows.Select(s => new DecodeResult([.. s.Response], s.Tracker.Result.Text, s.Tracker.Result.Finish, s.Reward,
            new DecodeTrace { Strategy = Name, Candidates = s.Trace, Compute = compute })).ToArray();
    }

    /// <summary>
    /// Samples K continuations of up to M tokens for every live row with the rollout engine (the rows' next-token
    /// logits already computed), and scores each at its end. On return the LM session holds the continuations that
    /// are still open (in <see cref="Block.Open"/> order) and the scorer session all n·K continuations.
    /// </summary>
    private Block RunBlock(RolloutEngine engine, IDecoderSession lm, IDecoderSession scorer, RowState[] rows, List<int> live, CancellationToken ct)
    {
        int n = live.Count, K = Options.Candidates;
        // Continuation c = i·K + j forks row i's stop-rule state; its first token comes from the row's own logits (the
        // fork copies them with the cache, so the K continuations share it instead of each recomputing it).
        var trackers = Enumerable.Range(0, n * K).Select(c => rows[live[c / K]].Tracker.Fork()).ToArray();
        var starts = trackers.Select(t => t.Result.Tokens.Count).ToArray();
        var forks = Enumerable.Range(0, n * K).Select(c => c / K).ToArray();
        if (scorer.Telemetry.ModelCalls == 0) scorer.Forward(ct); // runs the prompts once, before forking
        lm.Select(forks);
        scorer.Select(forks);
        var keys = Enumerable.Range(0, n * K).Select(c => new SampleKey((long)live[c / K] * K + c % K, 0)).ToArray();
        var open = engine.Advance(lm, [], keys, trackers, Options.BlockSize, ct).ToList(); // open[i] = continuation of LM session row i
        ct.ThrowIfCancellationRequested();

        var tokens = trackers.Select((t, c) => t.Result.Tokens.GetRange(starts[c], t.Result.Tokens.Count - starts[c])).ToArray();
        var done = trackers.Select(t => t.Done ? t.Result.Finish : (FinishReason?)null).ToArray();
        for (var c = 0; c < n * K; c++)
            if (tokens[c].Count > 0) scorer.Append(c, tokens[c].ToArray());
        var scores = scorer.Forward(ct).Values.ToArray(); // width 1: one reward per continuation
        var offsets = Enumerable.Range(0, n + 1).Select(i => i * K).ToArray();
        var winners = new int[n];
        Kernels.GroupArgmax(scores, offsets, winners);
        return new Block(tokens, done, scores, winners, open);
    }

    /// <summary>Appends each row's best continuation, records the block in the trace, and keeps the rows that go on in both sessions.</summary>
    private List<int> KeepWinners(IDecoderSession lm, IDecoderSession scorer, RowState[] rows, List<int> live, Block block)
    {
        var K = Options.Candidates;
        var lmRowOf = new Dictionary<int, int>();
        for (var i = 0; i < block.Open.Count; i++) lmRowOf[block.Open[i]] = i;
        var keepLm = new List<int>();
        var keepScorer = new List<int>();
        var kept = new List<int>();
        for (var i = 0; i < live.Count; i++)
        {
            var row = rows[live[i]];
            var winner = block.Winners[i];
            for (var c = i * K; c < (i + 1) * K; c++)
            {
                int[] full = [.. row.Response, .. block.Tokens[c]];
                row.Trace.Add(new CandidateTrace(full, Model.Tokenizer.Decode(full), block.Scores[c], Accepted: c == winner));
            }
            row.Reward = block.Scores[winner];
            // The row takes the winning block through its own stop rules (streaming what became final).
            row.Tracker.Replay(block.Tokens[winner].ToArray());
            if (block.Done[winner] is FinishReason reason && !row.Tracker.Done) row.Tracker.Finish(reason);
            if (row.Tracker.Done) continue;
            keepLm.Add(lmRowOf[winner]);
            keepScorer.Add(winner);
            kept.Add(live[i]);
        }
        lm.Select(keepLm.ToArray());
        scorer.Select(keepScorer.ToArray());
        return kept;
    }

    /// <summary>One prompt's response so far under the shared stop rules, and its trace.</summary>
    private sealed class RowState(ResponseTracker tracker)
    {
        public ResponseTracker Tracker { get; } = tracker;
        public List<int> Response => Tracker.Result.Tokens;
        public List<CandidateTrace> Trace { get; } = [];
        public double? Reward { get; set; }
    }

    /// <summary>
    /// One block: continuation c = i·K + j (row i, candidate j) with its tokens, why it ended (null = still open),
    /// its reward and, per row, the index of the kept continuation; <see cref="Open"/>[s] = continuation of LM session row s.
    /// </summary>
    private sealed record Block(List<int>[] Tokens, FinishReason?[] Done, float[] Scores, int[] Winners, List<int> Open);
}
