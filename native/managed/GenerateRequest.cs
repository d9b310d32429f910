using System.Text.Json;
using DecodeAlign.Decoding;
using DecodeAlign.Kernels;

namespace DecodeAlign.Native;

/// <summary>
/// The options JSON of <c>da_generate</c>, read into what <see cref="StrategyEntry.Create"/> takes: the strategy, sampling
/// and stopping, and the strategy's own options (named as in <see cref="StrategyEntry.Options"/>, e.g. <c>n</c>,
/// <c>beta</c>, <c>top-k</c>; <c>top_k</c> is accepted for <c>top-k</c>). Defaults match <c>decodealign generate</c>.
/// </summary>
/// <param name="Entry">The catalog entry of the chosen strategy.</param>
/// <param name="Generation">Sampling and stopping.</param>
/// <param name="Options">The strategy's own options, as text.</param>
/// <param name="ExplicitTemperature">The temperature when the caller gave one (args and tqstar only sample then).</param>
public sealed record GenerateRequest(StrategyEntry Entry, GenerationOptions Generation, IReadOnlyDictionary<string, string> Options, float? ExplicitTemperature)
{
    /// <summary>The keys every strategy reads; anything else must be an option of the chosen strategy.</summary>
    public static readonly string[] GenerationKeys =
    [
        "strategy", "max_new_tokens", "temperature", "top_p", "min_p", "seed", "stop", "ignore_eos",
        "repetition_penalty", "frequency_penalty", "presence_penalty",
    ];

    /// <summary>Whether the strategy needs the reward (and its prefix scorer), as the CLI decides it.</summary>
    public bool NeedsReward => Entry.Requires.Any(r => r is PotentialRole.Reward or PotentialRole.PrefixScorer)
        || (Options.TryGetValue("prune-at", out var p) && p.Length > 0);

    /// <summary>β of the value model (VAS): the strategy's beta option where it reads one, else 1.</summary>
    public float Beta => Entry.Options.Any(o => o.Name == "beta") ? new StrategyOptionValues(Entry, Options).Float("beta") : 1f;

    /// <summary>Parses and checks <paramref name="json"/> (null or blank = all defaults, strategy <c>sample</c>).</summary>
    public static GenerateRequest Parse(string? json)
    {
        var f = new JsonFields(json, "options");
        var name = f.String("strategy") ?? "sample";
        var entry = StrategyCatalog.All.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw new NativeApiException(Status.UnknownStrategy, $"unknown strategy '{JsonFields.Shorten(name)}' (known: {string.Join(", ", StrategyCatalog.All.Select(e => e.Name))})");
        var temperature = f.Float("temperature");
        var generation = new GenerationOptions
        {
            MaxNewTokens = f.Int("max_new_tokens") ?? 128,
            StopStrings = f.Strings("stop") ?? [],
            IgnoreEos = f.Bool("ignore_eos") ?? false,
            Sampling = new SamplingParameters
            {
                // As the CLI: greedy is temperature 0 whatever was asked.
                Temperature = entry.Name == "greedy" ? 0f : temperature ?? 1f,
                TopP = f.Float("top_p") ?? 1f,
                MinP = f.Float("min_p") ?? 0f,
                Seed = f.UInt64("seed") ?? 0UL,
                RepetitionPenalty = f.Float("repetition_penalty") ?? 1f,
                FrequencyPenalty = f.Float("frequency_penalty") ?? 0f,
                PresencePenalty = f.Float("presence_penalty") ?? 0f,
            },
        };
        var options = new Dictionary<string, string>();
        foreach (var (key, value) in f.Members)
        {
            var option = entry.Options.FirstOrDefault(o => o.Name == key) ?? entry.Options.FirstOrDefault(o => o.Name == key.Replace('_', '-'))
                ?? throw new NativeApiException(Status.Option, $"options: '{key}' is neither a generation option ({string.Join(", ", GenerationKeys)}) "
                    + $"nor an option of strategy '{entry.Name}' ({(entry.Options.Count == 0 ? "it reads none" : string.Join(", ", entry.Options.Select(o => o.Name)))})");
            if (!options.TryAdd(option.Name, Text(option, key, value)))
                throw new NativeApiException(Status.Option, $"options: '{option.Name}' is given twice");
        }
        if (entry.Samples && !(generation.Sampling.Temperature > 0))
            throw new NativeApiException(Status.Option, $"options: temperature must be > 0 for {entry.Name} (got {generation.Sampling.Temperature}); use strategy greedy for temperature 0");
        generation.Validate();
        // Parse every option now, so a bad value fails here with its name rather than inside the strategy's constructor.
        foreach (var option in entry.Options.Where(o => options.ContainsKey(o.Name))) option.Parse(options[option.Name]);
        return new GenerateRequest(entry, generation, options, temperature);
    }

    /// <summary>An option's JSON value as the text <see cref="StrategyOption.Parse"/> reads.</summary>
    private static string Text(StrategyOption option, string key, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Array when option.Kind == StrategyOptionKind.IntList && value.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number) =>
            string.Join(",", value.EnumerateArray().Select(x => x.GetRawText())),
        _ => throw new NativeApiException(Status.Option, $"options: '{key}' must be {(option.Kind == StrategyOptionKind.IntList ? "an array of integers" : option.Kind == StrategyOptionKind.Choice ? "a string" : "a number")} (got {JsonFields.Shorten(value.GetRawText())})"),
    };
}
