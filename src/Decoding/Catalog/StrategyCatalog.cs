using DecodeAlign.Decoding.Strategies;
using static DecodeAlign.Decoding.PotentialRole;
using Kind = DecodeAlign.Decoding.StrategyOptionKind;

namespace DecodeAlign.Decoding;

/// <summary>
/// Every built-in strategy by name, with the potentials it needs, the options it reads and how it is built: the one
/// list the CLI (flags, <c>decodealign strategies</c>), evaluation and the chat client read. Add a strategy here and
/// it is everywhere.
/// </summary>
public static class StrategyCatalog
{
    private static StrategyOption N(string what) => new("n", Kind.Int, "16", what);

    private static readonly StrategyOption TopKFilter = new("top-k", Kind.Int, "0", "top-k filter of the sampling distribution (0 = off)");

    /// <summary>Sampling with the request's top-k filter applied.</summary>
    private static GenerationOptions Filtered(StrategyRequest r, StrategyOptionValues o) =>
        r.Generation with { Sampling = r.Generation.Sampling with { TopK = o.Int("top-k") } };

    private static GenerationOptions Greedy(GenerationOptions g) => g with { Sampling = g.Sampling with { Temperature = 0 } };

    private static T Pick<T>(string strategy, string value, params (string Name, T Value)[] choices) =>
        choices.FirstOrDefault(c => c.Name == value) is { Name: not null } hit ? hit.Value
            : throw new ArgumentException($"select for {strategy} must be {string.Join(" or ", choices.Select(c => c.Name))} (got '{value}')");

    /// <summary>All strategies, in the order they are listed.</summary>
    public static IReadOnlyList<StrategyEntry> All { get; } =
    [
        new()
        {
            Name = "greedy", Summary = "Greedy decoding: y_t = argmax logits_t.", Streams = true, Samples = false, Options = [TopKFilter],
            Factory = (r, o) => new SamplingStrategy(r.Model, r.Kernels, Greedy(Filtered(r, o))) { OnText = r.OnText },
        },
        new()
        {
            Name = "sample", Summary = "Ancestral sampling with temperature, top-k, top-p and min-p.", Streams = true, Options = [TopKFilter],
            Factory = (r, o) => new SamplingStrategy(r.Model, r.Kernels, Filtered(r, o)) { OnText = r.OnText },
        },
        BestOfN("bon", BestOfNSelector.Argmax, "Best-of-N (Stiennon et al. 2020): the highest-reward of N samples.", [Reward], [PrefixScorer]),
        BestOfN("mv", BestOfNSelector.MajorityVote, "Majority vote over N samples' answers (self-consistency, Wang et al. 2023).", [AnswerExtractor], [PrefixScorer]),
        BestOfN("wmv", BestOfNSelector.WeightedVote, "Reward-weighted vote over N samples' answers (Li et al. 2023).", [Reward, AnswerExtractor], [PrefixScorer]),
        new()
        {
            Name = "args", Summary = "ARGS (Khanov et al. 2024): top-k tokens rescored by logit + w·R(prefix); --block-size > 1 switches to blockwise controlled decoding (Mudgal et al. 2024).",
            Requires = [PrefixScorer], Streams = true, Samples = false, Budget = "candidate blocks per step (with --block-size > 1)",
            RowsPerPrompt = o => o.Int("block-size") > 1 ? o.Int("n") : 1,
            Options =
            [
                new("top-k", Kind.Int, "10", "candidate tokens per step"),
                new("weight", Kind.Float, "1", "w in logit + w·R"),
                new("block-size", Kind.Int, "1", "tokens per block; > 1 samples n blocks and keeps the best"),
                N("candidate blocks per step (blockwise)"),
            ],
            Factory = (r, o) => (o.Int("block-size") is < 1 and var bad ? throw new ArgumentException($"block size must be >= 1 (got {bad})") : o.Int("block-size")) > 1
                ? new ControlledDecodingStrategy(r.Model, r.Kernels, r.Generation, r.Potentials, new ControlledDecodingOptions { Candidates = o.Int("n"), BlockSize = o.Int("block-size") }) { OnText = r.OnText }
                : new ArgsStrategy(r.Model, r.Kernels, r.Generation, r.Potentials, new ArgsOptions { TopK = o.Int("top-k"), Weight = o.Float("weight"), Temperature = r.ExplicitTemperature ?? 0f }) { OnText = r.OnText },
        },
        new()
        {
            Name = "vas", Summary = "Value-augmented sampling (Han et al. 2024): top-k tokens reweighted by exp(β·V).", Requires = [Value], Streams = true,
            Options = [new("top-k", Kind.Int, "20", "candidate tokens per step"), new("beta", Kind.Float, "1", "β, the value weight")],
            Factory = (r, o) => new VasStrategy(r.Model, r.Kernels, r.Generation, r.Potentials, new VasOptions { TopK = o.Int("top-k"), Temperature = r.ExplicitTemperature ?? r.Generation.Sampling.Temperature }) { OnText = r.OnText },
        },
        new()
        {
            Name = "qalign", Summary = "QAlign (Faria & Smith 2025): MCMC over responses targeting p(y)·exp(r/β).", Requires = [Reward], Uses = [AnswerExtractor],
            Budget = "MCMC steps", BudgetOption = "n", RowsPerPrompt = _ => 2 * new QAlignOptions().ChainsPerPrompt,
            Options =
            [
                N("MCMC steps"), TopKFilter, new("beta", Kind.Float, "1", "β, the reward temperature"),
                new("burn-in", Kind.Int, "0", "steps discarded before voting"), new("select", Kind.Choice, "last", "last, mv or wmv"),
            ],
            Factory = (r, o) => new QAlignStrategy(r.Model, r.Kernels, Filtered(r, o), r.Potentials, new QAlignOptions
            {
                Steps = o.Int("n"), Beta = o.Float("beta"), BurnIn = o.Int("burn-in"),
                Selection = Pick("qalign", o.Choice("select"), ("last", QAlignSelection.LastState), ("mv", QAlignSelection.MajorityVote), ("wmv", QAlignSelection.WeightedVote)),
            }),
        },
        new()
        {
            Name = "smc", Summary = "Sequential Monte Carlo (Zhao et al. 2024): particles resampled by twisted reward weights.", Requires = [Reward], Uses = [PrefixScorer, AnswerExtractor],
            Budget = "particles", BudgetOption = "n", RowsPerPrompt = o => o.Int("n"),
            Options =
            [
                N("particles"), TopKFilter, new("beta", Kind.Float, "1", "β, the reward temperature"),
                new("block-size", Kind.Int, "1", "tokens between resampling steps"), new("select", Kind.Choice, "best", "best or wmv"),
            ],
            Factory = (r, o) => new SmcStrategy(r.Model, r.Kernels, Filtered(r, o), r.Potentials, new SmcOptions
            {
                Particles = o.Int("n"), Beta = o.Float("beta"), BlockSize = o.Int("block-size"),
                Selection = Pick("smc", o.Choice("select"), ("best", SmcSelection.HighestWeight), ("wmv", SmcSelection.WeightedVote)),
            }),
        },
        new()
        {
            Name = "deal", Summary = "DeAL (Huang et al. 2024): beam search on log P + λ·h(lookahead) with any composed reward h.",
            Requires = [PrefixScorer], Samples = false, Budget = "beams (× top-k candidates per step)", BudgetOption = "beams", RowsPerPrompt = o => (long)o.Int("beams") * o.Int("top-k"),
            Options =
            [
                new("top-k", Kind.Int, "5", "candidates per beam and step"), new("lookahead", Kind.Int, "8", "tokens rolled out from each candidate"),
                new("beams", Kind.Int, "2", "beams kept per prompt"), new("lambda", Kind.Float, "1", "λ, the heuristic weight"),
                new("lookahead-temperature", Kind.Float, "0", "temperature of the lookahead (0 = greedy)"),
            ],
            Factory = (r, o) => new DealStrategy(r.Model, r.Kernels, r.Generation, r.Potentials, new DealOptions
            {
                TopK = o.Int("top-k"), Lookahead = o.Int("lookahead"), Beams = o.Int("beams"), Lambda = o.Float("lambda"), LookaheadTemperature = o.Float("lookahead-temperature"),
            }),
        },
        new()
        {
            Name = "tqstar", Summary = "Transfer Q* (Chakraborty et al. 2024): top-k tokens reweighted by exp(α·Q̂), Q̂ from baseline-policy rollouts.",
            Requires = [PrefixScorer, BaselinePolicy], Uses = [BaselineReward], Streams = true, Samples = false, Budget = "rollouts per candidate (× top-k per step)", BudgetOption = "rollouts", RowsPerPrompt = o => 1 + (long)o.Int("top-k") * o.Int("rollouts"),
            Options =
            [
                new("top-k", Kind.Int, "10", "candidate tokens per step"), new("alpha", Kind.Float, "1", "α, the Q weight"),
                new("rollout-length", Kind.Int, "16", "tokens per baseline rollout"), new("rollouts", Kind.Int, "1", "rollouts m per candidate"),
                new("beta", Kind.Float, "1", "β of indirect transfer's weights exp((r − r_BL)/β)"),
                new("rollout-temperature", Kind.Float, "0", "temperature of the rollouts (0 = greedy; with rollouts > 1 the default is 1, as identical greedy rollouts would add nothing)"),
            ],
            Factory = (r, o) => new TransferQStrategy(r.Model, r.Kernels, r.Generation, r.Potentials, new TransferQOptions
            {
                TopK = o.Int("top-k"), Alpha = o.Float("alpha"), RolloutLength = o.Int("rollout-length"), Rollouts = o.Int("rollouts"),
                Beta = o.Float("beta"), Temperature = r.ExplicitTemperature ?? 1f,
                RolloutTemperature = o.IsGiven("rollout-temperature") || o.Int("rollouts") == 1 ? o.Float("rollout-temperature") : 1f,
            }) { OnText = r.OnText },
        },
    ];

    private static StrategyEntry BestOfN(string name, BestOfNSelector selector, string summary, PotentialRole[] requires, PotentialRole[] uses) => new()
    {
        Name = name, Summary = summary, Requires = requires, Uses = uses, Budget = "candidates", BudgetOption = "n", RowsPerPrompt = o => o.Int("n"),
        Options =
        [
            N("candidates"), TopKFilter, new("beta", Kind.Float, "1", "β of the weighted vote's softmax(r/β)"),
            new("prune-at", Kind.IntList, "", "token counts at which the lowest-scoring candidates stop (early pruning)"),
            new("prune-fraction", Kind.Float, "0.5", "fraction dropped at each prune point"),
        ],
        Factory = (r, o) => new BestOfNStrategy(r.Model, r.Kernels, Filtered(r, o), r.Potentials, new BestOfNOptions
        {
            N = o.Int("n"), Beta = o.Float("beta"), Selector = selector, PruneAt = o.IntList("prune-at"), PruneFraction = o.Float("prune-fraction"),
        }),
    };

    /// <summary>The entry named <paramref name="name"/> (case-insensitive), or an <see cref="ArgumentException"/> listing the names.</summary>
    public static StrategyEntry Get(string name) =>
        All.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"strategy must be one of {string.Join(", ", All.Select(e => e.Name))} (got '{name}')");
}
