using System.Globalization;
using DecodeAlign.Chat;
using DecodeAlign.Decoding;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// What the next reply is asked with. Strategy options are kept across strategy switches and each request gets only
/// those its strategy reads, because the chat client rejects an option a strategy does not declare: "/n 8" before
/// "/strategy greedy" must not break greedy, and must still be there after "/strategy bon".
/// </summary>
internal sealed class ChatSettings
{
    /// <summary>Request-level settings that /set also accepts; they map to <see cref="Microsoft.Extensions.AI.ChatOptions"/>, not to a strategy.</summary>
    public static readonly IReadOnlyList<string> RequestOptions = ["seed", "temperature", "top-p", "max-tokens"];

    private readonly SortedDictionary<string, string> _strategyOptions = new(StringComparer.Ordinal);

    /// <summary>Starts with <paramref name="strategy"/> and nothing else set, so every value is the library's default.</summary>
    public ChatSettings(StrategyEntry strategy) => Strategy = strategy;

    /// <summary>The strategy replies use.</summary>
    public StrategyEntry Strategy { get; set; }

    /// <summary>A reward SPEC for requests; null leaves the bundle's own reward (the --reward given at start, or verifier for the built-in models).</summary>
    public string? Reward { get; set; }

    /// <summary>The sampling seed; null lets the client pick its fixed default, so replies are reproducible either way.</summary>
    public long? Seed { get; set; }

    /// <summary>Sampling temperature; null keeps the client's (1, or the strategy's own for search strategies).</summary>
    public float? Temperature { get; set; }

    /// <summary>Nucleus threshold; null keeps 1 (off).</summary>
    public float? TopP { get; set; }

    /// <summary>Reply length limit; null keeps the client's default.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>Every strategy option the user set, whether or not the current strategy reads it.</summary>
    public IReadOnlyDictionary<string, string> StrategyOptions => _strategyOptions;

    /// <summary>The options a request with <paramref name="entry"/> carries: the kept options it declares, plus the request-level settings.</summary>
    public DecodeAlignChatOptions For(StrategyEntry entry)
    {
        var options = new DecodeAlignChatOptions
        {
            Strategy = entry.Name,
            Reward = Reward,
            Seed = Seed,
            Temperature = Temperature,
            TopP = TopP,
            MaxOutputTokens = MaxOutputTokens,
        };
        foreach (var (name, value) in _strategyOptions)
            if (Reads(entry, name)) options.StrategyOptions[name] = value;
        return options;
    }

    /// <summary>Kept options that <paramref name="entry"/> ignores, so the console can say they are not in effect.</summary>
    public IEnumerable<string> NotReadBy(StrategyEntry entry) => _strategyOptions.Keys.Where(name => !Reads(entry, name));

    /// <summary>
    /// Sets a strategy option or a request-level setting. The value is parsed by every catalog declaration of that name
    /// now, so a typo is reported when typed rather than at the next reply of some later strategy.
    /// </summary>
    public void Set(string name, string value)
    {
        switch (name)
        {
            case "seed":
                Seed = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : throw new ArgumentException($"seed must be an integer (got '{value}')");
                return;
            case "temperature":
                Temperature = NonNegative(name, value);
                return;
            case "top-p":
                var p = NonNegative(name, value);
                TopP = p is > 0 and <= 1 ? p : throw new ArgumentException($"top-p must be in (0, 1] (got '{value}')");
                return;
            case "max-tokens":
                MaxOutputTokens = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var max) && max > 0 ? max : throw new ArgumentException($"max-tokens must be a whole number > 0 (got '{value}')");
                return;
        }
        var declared = Declarations(name).ToList();
        if (declared.Count == 0) throw new ArgumentException($"no strategy has an option '{name}'; options are {string.Join(", ", AllNames())}");
        foreach (var option in declared) option.Parse(value);
        _strategyOptions[name] = value;
    }

    /// <summary>Forgets a setting, so the strategy's (or client's) default applies again; false when it was not set.</summary>
    public bool Unset(string name)
    {
        bool wasSet;
        switch (name)
        {
            case "seed":
                wasSet = Seed is not null;
                Seed = null;
                return wasSet;
            case "temperature":
                wasSet = Temperature is not null;
                Temperature = null;
                return wasSet;
            case "top-p":
                wasSet = TopP is not null;
                TopP = null;
                return wasSet;
            case "max-tokens":
                wasSet = MaxOutputTokens is not null;
                MaxOutputTokens = null;
                return wasSet;
        }
        if (!Declarations(name).Any()) throw new ArgumentException($"no strategy has an option '{name}'; options are {string.Join(", ", AllNames())}");
        return _strategyOptions.Remove(name);
    }

    /// <summary>The strategies that read option <paramref name="name"/>, for telling the user where a kept value applies.</summary>
    public static IEnumerable<string> ReadersOf(string name) => StrategyCatalog.All.Where(e => Reads(e, name)).Select(e => e.Name);

    /// <summary>Every name /set accepts: the catalog's options, then the request-level settings.</summary>
    public static IEnumerable<string> AllNames() =>
        StrategyCatalog.All.SelectMany(e => e.Options).Select(o => o.Name).Distinct().Order(StringComparer.Ordinal).Concat(RequestOptions);

    /// <summary>Whether <paramref name="entry"/> declares option <paramref name="name"/>.</summary>
    public static bool Reads(StrategyEntry entry, string name) => entry.Options.Any(o => o.Name == name);

    private static IEnumerable<StrategyOption> Declarations(string name) => StrategyCatalog.All.SelectMany(e => e.Options).Where(o => o.Name == name);

    private static float NonNegative(string name, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) && v >= 0
            ? v
            : throw new ArgumentException($"{name} must be a number >= 0 (got '{value}')");
}
