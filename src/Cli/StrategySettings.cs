using DecodeAlign.Decoding;
using DecodeAlign.Kernels;

namespace DecodeAlign.Cli;

/// <summary>A strategy chosen on the command line: its catalog entry, the option values given, and sampling and stopping.</summary>
internal sealed record StrategySettings
{
    public required StrategyEntry Entry { get; init; }

    public string Name => Entry.Name;

    /// <summary>Option values the user gave (missing ones take the entry's defaults).</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    /// <summary>The --temperature the user gave explicitly, if any.</summary>
    public float? ExplicitTemperature { get; init; }

    public GenerationOptions Generation { get; init; } = new();

    private StrategyOptionValues Values => new(Entry, Options);

    /// <summary>The strategy's compute budget n (given or default), or null when it reads none.</summary>
    public int? N => Entry.Options.Any(o => o.Name == "n") ? Values.Int("n") : null;

    /// <summary>β (given or default) where the strategy reads one, else 1: the value weight for vas.</summary>
    public float Beta => Entry.Options.Any(o => o.Name == "beta") ? Values.Float("beta") : 1f;

    /// <summary>LM session rows one prompt occupies at its peak (candidates, particles, beams × top-k, ...), from the catalog.</summary>
    public long RowsPerPrompt => Entry.RowsPerPrompt(Values);

    /// <summary>Whether early pruning was asked for (it needs the prefix scorer).</summary>
    public bool Prunes => Options.TryGetValue("prune-at", out var p) && p.Length > 0;

    /// <summary>Whether the reward (and its prefix scorer) must be loaded.</summary>
    public bool NeedsReward => Entry.Requires.Any(r => r is PotentialRole.Reward or PotentialRole.PrefixScorer) || Prunes;

    /// <summary>Whether a value model must be loaded.</summary>
    public bool NeedsValue => Entry.Requires.Contains(PotentialRole.Value);

    /// <summary>Whether a baseline policy must be loaded.</summary>
    public bool NeedsBaseline => Entry.Requires.Contains(PotentialRole.BaselinePolicy);

    /// <summary>Builds the strategy through the catalog; its constructor validates the options before any model runs.</summary>
    public IDecodingStrategy Create(AlignmentModels models, ITokenKernels kernels, Potentials potentials, Action<int, string>? onText = null) =>
        Entry.Create(new StrategyRequest
        {
            Model = models.Lm,
            Kernels = kernels,
            Generation = Generation,
            Potentials = potentials,
            Options = Options,
            ExplicitTemperature = ExplicitTemperature,
            OnText = onText,
        });

    /// <summary>Checks --temperature for this strategy (<see cref="CheckTemperature(StrategyEntry, float)"/>).</summary>
    public void CheckTemperature() => CheckTemperature(Entry, Generation.Sampling.Temperature);

    /// <summary>
    /// The one --temperature rule of generate, eval and compare: finite; &gt; 0 for strategies that sample (temperature 0
    /// is greedy decoding, a strategy of its own); &gt;= 0 for those that choose among scored candidates, where 0 takes
    /// the best one. Greedy ignores the option.
    /// </summary>
    public static void CheckTemperature(StrategyEntry entry, float t)
    {
        if (entry.Name == "greedy") return;
        if (entry.Samples && !(t > 0 && float.IsFinite(t)))
            throw new CliUsageException($"--temperature must be a finite number > 0 for {entry.Name}, which samples (got {Format(t)}); for temperature 0 use --strategy greedy.");
        if (!entry.Samples && !(t >= 0 && float.IsFinite(t)))
            throw new CliUsageException($"--temperature must be a finite number >= 0 for {entry.Name} (got {Format(t)}); 0 takes the best-scoring candidate.");
        static string Format(float x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The same settings with another seed.</summary>
    public StrategySettings WithSeed(ulong seed) => this with { Generation = Generation with { Sampling = Generation.Sampling with { Seed = seed } } };
}
