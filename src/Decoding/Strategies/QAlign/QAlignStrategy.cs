using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// QAlign (Faria &amp; Smith 2025, "Sample, Don't Search: Rethinking Test-Time Alignment for Language Models"), the
/// Metropolis–Hastings sampler of QUEST (Faria et al. 2024, "QUEST: Quality-Aware Metropolis-Hastings Sampling for
/// Machine Translation"). Each chain targets π(y) ∝ p(y | x) · exp(r(x, y)/β). It starts from y⁰ ~ p(· | x); each step
/// draws a cut i uniformly from the |y| = n + 1 positions of y = y_0 … y_{n−1} (its n tokens and its end), keeps
/// y_{&lt;i}, samples y′_{≥i} ~ p(· | x, y_{&lt;i}) and accepts with probability
/// α(y → y′) = min(1, exp((r(x, y′) − r(x, y))/β) · |y|/|y′|); a rejection repeats y.
/// <para>
/// Why this α: the proposal is q(y′ | y) = (1/|y|) · p(y′_{≥i} | x, y_{&lt;i}) and p(y′) = p(y_{&lt;i}) · p(y′_{≥i} | y_{&lt;i}),
/// so in π(y′) q(y | y′) / (π(y) q(y′ | y)) the LM terms cancel and only the cut-point probabilities (1/|y′|)/(1/|y|)
/// and exp(Δr/β) remain. Counting the end as a cut position is what makes this exact: y′ extends y_{&lt;i}, so i is a
/// cut of y′ too and the reverse move always exists. (Counting only the n tokens, a proposal that ends right at the
/// cut, |y′| = i, could not move back, its true ratio is 0, and the chain would be biased; an empty response would
/// have no cut at all.) A cut at the end of a response that stopped without EOS (max new tokens, context length, a
/// stop string) keeps a finished response: the proposal is y itself, accepted without a model call (a self-loop).
/// </para>
/// <para>
/// p is the distribution the generation options sample from, with the same stopping rules as the first sample:
/// temperature τ ≠ 1 makes it the tempered p_τ, and top-k/top-p/min-p the filtered one; penalties see the kept
/// prefix as generated history, so p still factorises over the cut and the cancellation above holds.
/// </para>
/// <para>
/// Batching: the chains of all prompts share one LM session whose rows 0 … K−1 hold their states. Each step forks
/// them into proposal rows K … 2K−1, truncates each to its prompt and kept prefix (the cache is reused; only the
/// token before the cut is run again), regenerates every proposal in one batched forward call per token, scores all
/// proposals in one reward call, decides every acceptance in one kernel call and keeps the winning rows. States and
/// finished proposals stay in the batch meanwhile, so their cache survives. Results are returned per prompt:
/// Candidates[s·C + c] is chain c's state after step s (s = 0: the initial sample), and Compute is the whole batch's.
/// </para>
/// </summary>
public sealed class QAlignStrategy : DecodingStrategy<QAlignOptions>
{
    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options or missing potentials before any model runs.</summary>
    public QAlignStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, QAlignOptions options)
        : base(model, kernels, generation, potentials, options)
    {
        options.Validate();
        if (generation.Sampling.Temperature == 0f)
            throw new ArgumentException($"strategy '{Name}' needs a sampling temperature > 0 (got 0): greedy proposals never move a chain");
        if (potentials.Reward is null) throw new ArgumentException($"strategy '{Name}' needs a reward model (Potentials.Reward)");
        if (options.Selection != QAlignSelection.LastState && potentials.AnswerExtractor is null)
            throw new ArgumentException($"strategy '{Name}' with selection {options.Selection} needs an answer extractor (Potentials.AnswerExtractor)");
    }

    /// <inheritdoc />
    public override string Name => "qalign";

    /// <summary>
    /// Runs ChainsPerPrompt chains per prompt for Steps steps and selects each prompt's response. Cancellation stops
    /// within one decoding step: the proposals in flight are dropped and the chains' current states are returned.
    /// </summary>
    public override IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        if (prompts.Count == 0) return [];
        using var run = new Run(this, prompts, cancellationToken);
        run.Start();
        for (var s = 1; s <= Options.Steps && run.Step(s); s++) { }
        return run.Results(wall);
    }

    /// <summary>One chain state: a complete response (or a cancelled partial one) and its reward.</summary>
    private sealed record ChainState(int[] Tokens, string Text, FinishReason Finish, float? Reward)
    {
        public static ChainState From(GeneratedSequence g, float? reward) => new([.. g.Tokens], g.Text, g.Finish, reward);
    }

    /// <summary>|y|: the cut positions of a response, one per token plus the end (tokens only in the deliberately wrong test variant).</summary>
    private int CutPositions(ChainState state) =>
        Options.Variant == QAlignVariant.TokensOnlyCuts ? Math.Max(state.Tokens.Length, 1) : state.Tokens.Length + 1;

    /// <summary>The chains of one <see cref="Decode"/> call: the session, the states after each step and the bookkeeping for the trace.</summary>
    private sealed class Run : IDisposable
    {
        private readonly QAlignStrategy _s;
        private readonly IReadOnlyList<int[]> _prompts;
        private readonly CancellationToken _ct;
        private readonly int _chains, _perPrompt;
        private readonly RolloutEngine _generator;
        private readonly RewardTally _tally;
        private readonly List<ChainState[]> _history = []; // _history[s][k]: chain k after step s
        private readonly List<bool[]> _accepted = []; // _accepted[s − 1][k]
        private readonly List<long[]> _regenerated = []; // _regenerated[s − 1][k]
        private long _sampled;
        private TimeSpan _prefill;

        public Run(QAlignStrategy strategy, IReadOnlyList<int[]> prompts, CancellationToken ct)
        {
            _s = strategy;
            _prompts = prompts;
            _ct = ct;
            _perPrompt = strategy.Options.ChainsPerPrompt;
            _chains = prompts.Count * _perPrompt;
            _generator = new RolloutEngine(strategy.Model, strategy.Kernels, strategy.Generation);
            _tally = new RewardTally(strategy.Potentials.Reward!, strategy.Model);
            Session = strategy.Model.Lm.CreateSession();
        }

        public IDecoderSession Session { get; }

        public void Dispose() => Session.Dispose();

        private int[] PromptOf(int chain) => _prompts[chain / _perPrompt];

        private int[] AllChains => Enumerable.Range(0, _chains).ToArray();

        /// <summary>Prefills each prompt once, forks it into its chains and draws and scores y⁰.</summary>
        public void Start()
        {
            foreach (var p in _prompts) Session.AddRow(p);
            GeneratedSequence[] first;
            try
            {
                _ct.ThrowIfCancellationRequested();
                Session.Forward(_ct);
                _prefill = Session.Telemetry.LastStep.WallTime;
                Session.Select(AllChains.Select(k => k / _perPrompt).ToArray());
                first = _generator.Generate(Session, AllChains.Select(k => QAlignKeys.Suffix(k, 0)).ToArray(), _ct, rows: AllChains);
            }
            catch (OperationCanceledException)
            {
                first = AllChains.Select(_ => new GeneratedSequence { Finish = FinishReason.Cancelled }).ToArray();
            }
            _sampled += first.Sum(g => (long)g.Tokens.Count);
            var rewards = first.Any(g => g.Finish == FinishReason.Cancelled) ? null : TryScore(first.Select((g, k) => (k, g.Text)).ToArray());
            _history.Add(first.Select((g, k) => ChainState.From(g, rewards?[k])).ToArray());
        }

        /// <summary>One MCMC step for every chain; false when cancelled (the states are left as they were).</summary>
        public bool Step(int step)
        {
            var states = _history[^1];
            if (_ct.IsCancellationRequested || states.Any(st => st.Reward is null)) return false;
            var cuts = DrawCuts(states, step);

            // Rows K … 2K−1 become the proposals, each cut back to its prompt and kept prefix y_<i.
            Session.Select([.. AllChains, .. AllChains]);
            var regenerating = new List<int>(_chains);
            for (var k = 0; k < _chains; k++)
            {
                var keep = PromptOf(k).Length + cuts[k];
                // A row lacks the last token only when the response stopped without EOS (that token was never run):
                // cutting at its end keeps the finished response, so the proposal is y itself.
                if (keep > Session.GetTokens(_chains + k).Length) continue;
                Session.Truncate(_chains + k, keep);
                regenerating.Add(k);
            }
            var generated = _generator.Generate(Session, regenerating.Select(k => QAlignKeys.Suffix(k, step)).ToArray(), _ct,
                rows: regenerating.Select(k => _chains + k).ToArray(), responseStarts: regenerating.Select(k => PromptOf(k).Length).ToArray());
            _sampled += regenerating.Select((k, j) => (long)generated[j].Tokens.Count - cuts[k]).Sum();
            var rewards = generated.Any(g => g.Finish == FinishReason.Cancelled) ? null : TryScore(regenerating.Select((k, j) => (k, generated[j].Text)).ToArray());
            if (rewards is null)
            {
                Session.Select(AllChains);
                return false;
            }

            var proposals = (ChainState[])states.Clone();
            var regenerated = new long[_chains];
            for (var j = 0; j < regenerating.Count; j++)
            {
                var k = regenerating[j];
                proposals[k] = ChainState.From(generated[j], rewards[j]);
                regenerated[k] = generated[j].Tokens.Count - cuts[k];
            }
            var accepted = Accept(states, proposals, step);
            Session.Select(AllChains.Select(k => accepted[k] ? _chains + k : k).ToArray());
            _history.Add(AllChains.Select(k => accepted[k] ? proposals[k] : states[k]).ToArray());
            _accepted.Add(accepted);
            _regenerated.Add(regenerated);
            return true;
        }

        /// <summary>Each chain's cut i, uniform over its |y| positions, drawn by the kernels from a flat row (−∞ past |y|).</summary>
        private int[] DrawCuts(ChainState[] states, int step)
        {
            var positions = states.Select(_s.CutPositions).ToArray();
            var width = positions.Max();
            var logits = new float[_chains * width];
            for (var k = 0; k < _chains; k++) logits.AsSpan(k * width + positions[k], width - positions[k]).Fill(float.NegativeInfinity);
            var cuts = new int[_chains];
            var uniform = new SamplingParameters { Seed = _s.Generation.Sampling.Seed };
            _s.Kernels.Sample(logits, width, uniform, AllChains.Select(k => QAlignKeys.Cut(k, step)).ToArray(), cuts);
            return cuts;
        }

        /// <summary>All chains' Metropolis–Hastings decisions in one kernel call, on the terms [Δr/β, log(|y|/|y′|)].</summary>
        private bool[] Accept(ChainState[] states, ChainState[] proposals, int step)
        {
            var variant = _s.Options.Variant;
            var beta = variant == QAlignVariant.WithoutBeta ? 1.0 : _s.Options.Beta;
            var terms = new float[2 * _chains];
            for (var k = 0; k < _chains; k++)
            {
                terms[2 * k] = (float)(((double)proposals[k].Reward!.Value - states[k].Reward!.Value) / beta);
                terms[2 * k + 1] = variant == QAlignVariant.WithoutLengthCorrection ? 0f
                    : (float)(Math.Log(_s.CutPositions(states[k])) - Math.Log(_s.CutPositions(proposals[k])));
            }
            var accepted = new bool[_chains];
            _s.Kernels.AcceptMetropolisHastings(terms, 2, _s.Generation.Sampling.Seed, AllChains.Select(k => QAlignKeys.Accept(k, step)).ToArray(), accepted);
            return accepted;
        }

        /// <summary>One reward call for (chain, response text) pairs; null when cancelled.</summary>
        private float[]? TryScore(IReadOnlyList<(int Chain, string Text)> items)
        {
            try
            {
                return _tally.Score(items.Select(x => (PromptOf(x.Chain), x.Text)).ToArray(), _ct);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        /// <summary>Each prompt's chosen state with its trace.</summary>
        public DecodeResult[] Results(Stopwatch wall)
        {
            var compute = ComputeMeter.Trace(Session, [], _sampled, wall.Elapsed, _prefill, _tally.Work);
            var extract = _s.Options.Selection == QAlignSelection.LastState ? null : _s.Potentials.AnswerExtractor;
            var answers = _history.Select(states => states.Select(st => extract?.Invoke(st.Text)).ToArray()).ToList();
            var chosen = Choose(answers);
            var results = new DecodeResult[_prompts.Count];
            for (var p = 0; p < _prompts.Count; p++)
            {
                var chains = Enumerable.Range(p * _perPrompt, _perPrompt).ToArray();
                var candidates = new List<CandidateTrace>();
                for (var s = 0; s < _history.Count; s++)
                    foreach (var k in chains)
                    {
                        var st = _history[s][k];
                        candidates.Add(new CandidateTrace(st.Tokens, st.Text, st.Reward, answers[s][k], s == 0 ? null : _accepted[s - 1][k]));
                    }
                var proposals = _accepted.Count * _perPrompt;
                var (step, chain) = chosen[p];
                var best = _history[step][chain];
                // A chain cut short by cancellation returns its state so far, marked partial: the response is complete,
                // the search is not.
                var finish = _ct.IsCancellationRequested && _history.Count - 1 < _s.Options.Steps ? FinishReason.Cancelled : best.Finish;
                results[p] = new DecodeResult([.. best.Tokens], best.Text, finish, best.Reward, new DecodeTrace
                {
                    Strategy = _s.Name,
                    Candidates = candidates,
                    AcceptanceRate = proposals == 0 ? null : _accepted.Sum(a => chains.Count(k => a[k])) / (double)proposals,
                    RegeneratedTokens = _regenerated.Select(r => chains.Sum(k => r[k])).ToArray(),
                    Compute = compute,
                });
            }
            return results;
        }

        /// <summary>
        /// (step, chain) of each prompt's answer: the last state of its first chain, or for a vote over the states
        /// after burn-in (all states if the run stopped earlier) the latest one with the winning answer, earlier chains first.
        /// </summary>
        private (int Step, int Chain)[] Choose(List<string?[]> answers)
        {
            var last = _history.Count - 1;
            var chosen = Enumerable.Range(0, _prompts.Count).Select(p => (last, p * _perPrompt)).ToArray();
            var selection = _s.Options.Selection;
            if (selection == QAlignSelection.LastState || _history[0].Any(st => st.Reward is null)) return chosen;

            var from = _history.Count > _s.Options.BurnIn ? _s.Options.BurnIn : 0;
            var pool = new List<(int Step, int Chain)>();
            var offsets = new int[_prompts.Count + 1];
            for (var p = 0; p < _prompts.Count; p++)
            {
                for (var s = from; s <= last; s++)
                    for (var k = p * _perPrompt; k < (p + 1) * _perPrompt; k++) pool.Add((s, k));
                offsets[p + 1] = pool.Count;
            }
            var ids = new int[pool.Count];
            for (var p = 0; p < _prompts.Count; p++)
                AnswerIds.Assign(pool[offsets[p]..offsets[p + 1]].Select(x => answers[x.Step][x.Chain]).ToArray(), ids.AsSpan(offsets[p]));
            var rewards = selection == QAlignSelection.WeightedVote ? pool.Select(x => _history[x.Step][x.Chain].Reward!.Value).ToArray() : [];
            var winners = new int[_prompts.Count];
            _s.Kernels.Vote(ids, rewards, offsets, _s.Options.Beta, winners, new float[_prompts.Count]);
            for (var p = 0; p < _prompts.Count; p++)
            {
                // The pool is step-major: scanning it backwards by step finds the latest state with the winning answer.
                var found = false;
                for (var s = last; s >= from && !found; s--)
                    for (var c = 0; c < _perPrompt && !found; c++)
                        if (ids[offsets[p] + (s - from) * _perPrompt + c] == winners[p])
                        {
                            chosen[p] = (s, p * _perPrompt + c);
                            found = true;
                        }
            }
            return chosen;
        }
    }
}
