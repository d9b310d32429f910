using System.Globalization;

namespace DecodeAlign.Decoding;

/// <summary>What kind of value a strategy option takes.</summary>
public enum StrategyOptionKind
{
    /// <summary>An integer.</summary>
    Int,

    /// <summary>A real number.</summary>
    Float,

    /// <summary>A word from a fixed set.</summary>
    Choice,

    /// <summary>A comma-separated list of integers.</summary>
    IntList,
}

/// <summary>One option a strategy reads, as the CLI and the chat client show it.</summary>
/// <param name="Name">Its name (the CLI flag without "--").</param>
/// <param name="Kind">The kind of value.</param>
/// <param name="Default">The default, as text (empty for none).</param>
/// <param name="Description">One line on what it does in this strategy.</param>
public sealed record StrategyOption(string Name, StrategyOptionKind Kind, string Default, string Description)
{
    /// <summary>Parses <paramref name="text"/> as this option's kind, or throws an <see cref="ArgumentException"/> naming the option.</summary>
    public object Parse(string text)
    {
        try
        {
            return Kind switch
            {
                StrategyOptionKind.Int => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture),
                StrategyOptionKind.Float => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
                StrategyOptionKind.IntList => text.Length == 0 ? Array.Empty<int>() : text.Split(',').Select(x => int.Parse(x, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray(),
                _ => text.ToLowerInvariant(),
            };
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{Name} must be {(Kind == StrategyOptionKind.IntList ? "a comma-separated list of integers" : $"a{(Kind == StrategyOptionKind.Int ? "n integer" : " number")}")} (got '{text}')");
        }
    }
}
