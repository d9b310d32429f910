using System.CommandLine;
using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;

namespace DecodeAlign.Cli;

/// <summary>Strategy settings taken from the command line, shared by generate and eval.</summary>
internal sealed record StrategySettings
{
    public required string Name { get; init; }
    public int N { get; init; } = 16;
    public int TopK { get; init; }
    public float Beta { get; init; } = 1f;
    public float Weight { get; init; } = 1f;
    public int BlockSize { get; init; } = 1;
    public int BurnIn { get; init; }
    public string? Select { get; init; }

    /// <summary>The --temperature the user gave explicitly, for args (greedy unless given) and vas.</summary>
    public float? GuidedTemperature { get; init; }
    public IReadOnlyList<int> PruneAt { get; init; } = [];
    public double PruneFraction { get; init; } = 0.5;
    public GenerationOptions Generation { get; init; } = new();
}

/// <summary>The --strategy option and the options that configure strategies, shared by generate and eval.</summary>
internal sealed class StrategyOptions
{
    public Option<string> Strategy { get; } = new("--strategy") { Description = $"Decoding strategy: {string.Join(", ", StrategyFactory.Names)}.", DefaultValueFactory = _ => "sample" };
    public Option<int> N { get; } = new("--n") { Description = "Candidates (bon, mv, wmv, args with --block-size > 1), chain steps (qalign) or particles (smc).", DefaultValueFactory = _ => 16 };
    public Option<int> TopK { get; } = new("--top-k") { Description = "Candidates per step for args (default 10) and vas (default 20); a top-k filter for the other strategies (0 = off).", DefaultValueFactory = _ => 0 };
    public Option<float> Beta { get; } = new("--beta") { Description = "β: reward temperature for wmv, qalign and smc; value weight for vas.", DefaultValueFactory = _ => 1f };
    public Option<float> Weight { get; } = new("--weight") { Description = "w: reward weight in args' logit + w·R.", DefaultValueFactory = _ => 1f };
    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Tokens per block: args > 1 switches to blockwise (controlled) decoding; smc advances particles by blocks.", DefaultValueFactory = _ => 1 };
    public Option<int> BurnIn { get; } = new("--burn-in") { Description = "QAlign steps discarded before voting.", DefaultValueFactory = _ => 0 };
    public Option<string?> Select { get; } = new("--select") { Description = "How qalign and smc pick the answer: last (qalign's final state) or best (smc's highest weight), mv (majority vote), wmv (reward-weighted vote)." };
    public Option<int[]> PruneAt { get; } = new("--prune-at") { Description = "Best-of-N early pruning: token counts at which the lowest-scoring candidates are dropped (repeatable).", AllowMultipleArgumentsPerToken = true };
    public Option<double> PruneFraction { get; } = new("--prune-fraction") { Description = "Fraction α of running candidates dropped at each prune point.", DefaultValueFactory = _ => 0.5 };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Strategy, N, TopK, Beta, Weight, BlockSize, BurnIn, Select, PruneAt, PruneFraction }) cmd.Options.Add(o);
    }

    /// <summary>Reads the settings; <paramref name="generation"/> carries sampling and stopping.</summary>
    /// <param name="temperature">The --temperature option, read only when the user gave it (args is greedy otherwise).</param>
    public StrategySettings Read(ParseResult pr, GenerationOptions generation, string? nameOverride = null, Option<float>? temperature = null)
    {
        var name = (nameOverride ?? pr.GetValue(Strategy)!).ToLowerInvariant();
        StrategyFactory.CheckName(name);
        var topK = pr.GetValue(TopK);
        return new StrategySettings
        {
            Name = name,
            N = pr.GetValue(N),
            TopK = topK,
            Beta = pr.GetValue(Beta),
            Weight = pr.GetValue(Weight),
            BlockSize = pr.GetValue(BlockSize),
            BurnIn = pr.GetValue(BurnIn),
            Select = pr.GetValue(Select)?.ToLowerInvariant(),
            GuidedTemperature = temperature is not null && pr.GetResult(temperature) is { Implicit: false } ? pr.GetValue(temperature) : null,
            PruneAt = pr.GetValue(PruneAt) ?? [],
            PruneFraction = pr.GetValue(PruneFraction),
            // args and vas use --top-k as their candidate count, so it is not also a sampling filter for them.
            Generation = StrategyFactory.UsesTopKAsCandidates(name) ? generation : generation with { Sampling = generation.Sampling with { TopK = topK } },
        };
    }
}

/// <summary>Maps a strategy name to its class and options; knows which potentials each one needs.</summary>
internal static class StrategyFactory
{
    public static readonly string[] Names = ["greedy", "sample", "bon", "mv", "wmv", "args", "vas", "qalign", "smc"];

    public static bool NeedsReward(string name) => name is "bon" or "wmv" or "smc" or "qalign";

    public static bool NeedsPrefixScorer(string name) => name is "args";

    public static bool NeedsValue(string name) => name is "vas";

    public static bool Streams(string name) => name is "greedy" or "sample" or "args" or "vas";

    public static bool UsesTopKAsCandidates(string name) => name is "args" or "vas";

    public static void CheckName(string name)
    {
        if (!Names.Contains(name)) throw new CliUsageException($"--strategy must be one of {string.Join(", ", Names)} (got '{name}').");
    }

    /// <summary>Builds the strategy; its constructor validates the options before any model runs.</summary>
    /// <param name="onText">Streams text as it becomes final (plain sampling and greedy only; the others choose at the end).</param>
    public static IDecodingStrategy Create(StrategySettings s, AlignmentModels models, ITokenKernels kernels, Potentials potentials, Action<int, string>? onText = null)
    {
        var g = s.Generation;
        return s.Name switch
        {
            "greedy" => new SamplingStrategy(models.Lm, kernels, g with { Sampling = g.Sampling with { Temperature = 0 } }) { OnText = onText },
            "sample" => new SamplingStrategy(models.Lm, kernels, g) { OnText = onText },
            "bon" or "mv" or "wmv" => new BestOfNStrategy(models.Lm, kernels, g, potentials, new BestOfNOptions
            {
                N = s.N,
                Beta = s.Beta,
                Selector = s.Name switch { "mv" => BestOfNSelector.MajorityVote, "wmv" => BestOfNSelector.WeightedVote, _ => BestOfNSelector.Argmax },
                PruneAt = s.PruneAt,
                PruneFraction = s.PruneFraction,
            }),
            "smc" => new SmcStrategy(models.Lm, kernels, g, potentials, new SmcOptions
            {
                Particles = s.N,
                Beta = s.Beta,
                BlockSize = s.BlockSize,
                Selection = s.Select switch
                {
                    null or "best" => SmcSelection.HighestWeight,
                    "wmv" => SmcSelection.WeightedVote,
                    var other => throw new CliUsageException($"--select for smc must be best or wmv (got '{other}')."),
                },
            }),
            "args" when s.BlockSize > 1 => new ControlledDecodingStrategy(models.Lm, kernels, g, potentials,
                new ControlledDecodingOptions { Candidates = s.N, BlockSize = s.BlockSize }) { OnText = onText },
            "args" => new ArgsStrategy(models.Lm, kernels, g, potentials, new ArgsOptions
            {
                TopK = s.TopK > 0 ? s.TopK : 10,
                Weight = s.Weight,
                Temperature = s.GuidedTemperature ?? 0f,
            }) { OnText = onText },
            "vas" => new VasStrategy(models.Lm, kernels, g, potentials, new VasOptions
            {
                TopK = s.TopK > 0 ? s.TopK : 20,
                Temperature = s.GuidedTemperature ?? g.Sampling.Temperature,
            }) { OnText = onText },
            "qalign" => new QAlignStrategy(models.Lm, kernels, g, potentials, new QAlignOptions
            {
                Steps = s.N,
                Beta = s.Beta,
                BurnIn = s.BurnIn,
                Selection = s.Select switch
                {
                    null or "last" => QAlignSelection.LastState,
                    "mv" => QAlignSelection.MajorityVote,
                    "wmv" => QAlignSelection.WeightedVote,
                    var other => throw new CliUsageException($"--select for qalign must be last, mv or wmv (got '{other}')."),
                },
            }),
            _ => throw new CliUsageException($"unknown strategy '{s.Name}'."),
        };
    }
}
