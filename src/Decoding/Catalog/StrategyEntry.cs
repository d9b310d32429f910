namespace DecodeAlign.Decoding;

/// <summary>One strategy in the <see cref="StrategyCatalog"/>: its name, what it needs and reads, and how it is built.</summary>
public sealed record StrategyEntry
{
    /// <summary>Short name (the CLI's --strategy).</summary>
    public required string Name { get; init; }

    /// <summary>One line on what it does, with its paper.</summary>
    public required string Summary { get; init; }

    /// <summary>Potentials it cannot run without.</summary>
    public IReadOnlyList<PotentialRole> Requires { get; init; } = [];

    /// <summary>Potentials it uses when present (or when an option asks for them).</summary>
    public IReadOnlyList<PotentialRole> Uses { get; init; } = [];

    /// <summary>Options it reads, with their defaults.</summary>
    public IReadOnlyList<StrategyOption> Options { get; init; } = [];

    /// <summary>Whether it releases text while decoding (it commits to every token as it goes).</summary>
    public bool Streams { get; init; }

    /// <summary>How its compute budget "n" is read (candidates, chain steps, particles), or null when it has none.</summary>
    public string? Budget { get; init; }

    /// <summary>The option a compute budget sets (candidates, chain steps, particles, beams, rollouts), or null when it has none (a baseline).</summary>
    public string? BudgetOption { get; init; }

    /// <summary>LM session rows one prompt occupies at its peak under these options (candidates, particles, beams × top-k, rollouts): what memory budgets multiply.</summary>
    public Func<StrategyOptionValues, long> RowsPerPrompt { get; init; } = _ => 1;

    /// <summary>Whether it samples from the LM with the request's temperature (greedy and the search strategies do not).</summary>
    public bool Samples { get; init; } = true;

    /// <summary>Builds the strategy; throws <see cref="ArgumentException"/> for invalid options or missing potentials before any model runs.</summary>
    public required Func<StrategyRequest, StrategyOptionValues, IDecodingStrategy> Factory { get; init; }

    /// <summary>Builds the strategy from a request, filling missing options with their defaults.</summary>
    public IDecodingStrategy Create(StrategyRequest request) => Factory(request, new StrategyOptionValues(this, request.Options));
}

/// <summary>Option values of one request, parsed by the entry's declarations, defaults filled in.</summary>
public sealed class StrategyOptionValues
{
    private readonly StrategyEntry _entry;
    private readonly IReadOnlyDictionary<string, string> _given;

    /// <summary>Checks every given name against the entry's options.</summary>
    public StrategyOptionValues(StrategyEntry entry, IReadOnlyDictionary<string, string> given)
    {
        foreach (var name in given.Keys)
            if (entry.Options.All(o => o.Name != name))
                throw new ArgumentException($"strategy '{entry.Name}' has no option '{name}' (it reads {string.Join(", ", entry.Options.Select(o => o.Name))})");
        _entry = entry;
        _given = given;
    }

    /// <summary>Whether the caller gave the option.</summary>
    public bool IsGiven(string name) => _given.ContainsKey(name);

    private object Get(string name)
    {
        var option = _entry.Options.FirstOrDefault(o => o.Name == name) ?? throw new InvalidOperationException($"strategy '{_entry.Name}' declares no option '{name}'");
        return option.Parse(_given.TryGetValue(name, out var text) ? text : option.Default);
    }

    /// <summary>An integer option.</summary>
    public int Int(string name) => (int)Get(name);

    /// <summary>A real option.</summary>
    public float Float(string name) => (float)Get(name);

    /// <summary>A choice option (lower case; empty when unset without default).</summary>
    public string Choice(string name) => (string)Get(name);

    /// <summary>An integer-list option.</summary>
    public int[] IntList(string name) => (int[])Get(name);
}
