using System.CommandLine;
using System.Globalization;
using DecodeAlign.Decoding;

namespace DecodeAlign.Cli;

/// <summary>
/// The --strategy option and one flag per option any catalog strategy reads (the same name means the same flag), built
/// from <see cref="StrategyCatalog"/>; shared by generate and eval. Flags the chosen strategy does not read are ignored.
/// </summary>
internal sealed class StrategyOptions
{
    private readonly Dictionary<string, Option> _flags = [];

    public StrategyOptions()
    {
        foreach (var group in StrategyCatalog.All.SelectMany(e => e.Options.Select(o => (Entry: e, Option: o))).GroupBy(x => x.Option.Name))
        {
            var kinds = group.Select(x => x.Option.Kind).Distinct().ToArray();
            if (kinds.Length != 1) throw new InvalidOperationException($"catalog option '{group.Key}' has kinds {string.Join(", ", kinds)}");
            var description = string.Join("; ", group.GroupBy(x => x.Option.Description)
                .Select(d => $"{string.Join(", ", d.Select(x => x.Entry.Name))}: {d.Key}{(d.First().Option.Default is { Length: > 0 } def ? $" (default {def})" : "")}"));
            var name = "--" + group.Key;
            _flags[group.Key] = kinds[0] switch
            {
                StrategyOptionKind.Int => new Option<int?>(name) { Description = description },
                StrategyOptionKind.Float => new Option<float?>(name) { Description = description },
                StrategyOptionKind.IntList => new Option<int[]>(name) { Description = description + " (repeatable)", AllowMultipleArgumentsPerToken = true },
                _ => new Option<string?>(name) { Description = description },
            };
        }
    }

    public Option<string> Strategy { get; } = new("--strategy")
    {
        Description = $"Decoding strategy: {string.Join(", ", StrategyCatalog.All.Select(e => e.Name))} (`decodealign strategies` lists what each needs and reads).",
        DefaultValueFactory = _ => "sample",
    };

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Strategy);
        foreach (var flag in _flags.Values) cmd.Options.Add(flag);
    }

    /// <summary>The strategy entry named by --strategy (or <paramref name="nameOverride"/>), with a usage error for an unknown name.</summary>
    public StrategyEntry Entry(ParseResult pr, string? nameOverride = null)
    {
        var name = (nameOverride ?? pr.GetValue(Strategy)!).ToLowerInvariant();
        return StrategyCatalog.All.FirstOrDefault(e => e.Name == name)
            ?? throw new CliUsageException($"--strategy must be one of {string.Join(", ", StrategyCatalog.All.Select(e => e.Name))} (got '{name}').");
    }

    /// <summary>Reads the settings; <paramref name="generation"/> carries sampling and stopping.</summary>
    /// <param name="temperature">The --temperature option, read only when the user gave it (args and tqstar choose by their own default otherwise).</param>
    public StrategySettings Read(ParseResult pr, GenerationOptions generation, string? nameOverride = null, Option<float>? temperature = null)
    {
        var entry = Entry(pr, nameOverride);
        var given = new Dictionary<string, string>();
        foreach (var option in entry.Options)
        {
            var flag = _flags[option.Name];
            if (pr.GetResult(flag) is not { Implicit: false }) continue;
            given[option.Name] = flag switch
            {
                Option<int?> i => pr.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture),
                Option<float?> f => pr.GetValue(f)!.Value.ToString("R", CultureInfo.InvariantCulture),
                Option<int[]> l => string.Join(",", pr.GetValue(l) ?? []),
                Option<string?> s => pr.GetValue(s)!,
                _ => throw new InvalidOperationException(option.Name),
            };
        }
        return new StrategySettings
        {
            Entry = entry,
            Options = given,
            Generation = generation,
            ExplicitTemperature = temperature is not null && pr.GetResult(temperature) is { Implicit: false } ? pr.GetValue(temperature) : null,
        };
    }
}
