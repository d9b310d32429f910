namespace DecodeAlign.Tasks;

/// <summary>Which part of a task's problem space a problem belongs to; each split draws from its own disjoint seed range.</summary>
public enum Split
{
    /// <summary>Problems the forge trains on.</summary>
    Train,

    /// <summary>Problems used to choose checkpoints and tune training.</summary>
    Validation,

    /// <summary>Problems reported on and never trained on.</summary>
    Test,
}

/// <summary>Parsing and seed ranges of <see cref="Split"/>.</summary>
public static class Splits
{
    /// <summary>How many problems each split holds: its indices are 0 to Capacity - 1.</summary>
    public const int Capacity = 1 << 28;

    /// <summary>The generator seed of problem <paramref name="index"/> of <paramref name="split"/>; the ranges of the three splits never overlap.</summary>
    public static ulong Seed(Split split, int index)
    {
        if ((uint)index >= Capacity) throw new ArgumentOutOfRangeException(nameof(index), index, $"problem index must be in [0, {Capacity}).");
        // Train, validation and test occupy [0, 2^28), [2^28, 2^29) and [2^29, 2^29 + 2^28): disjoint by construction.
        ulong baseSeed = split switch
        {
            Split.Train => 0UL,
            Split.Validation => 1UL << 28,
            Split.Test => 1UL << 29,
            _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown split."),
        };
        return baseSeed + (ulong)index;
    }

    /// <summary>Parses "train", "validation" (or "val", "dev") and "test", case-insensitively.</summary>
    public static Split Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "train" => Split.Train,
        "validation" or "val" or "valid" or "dev" => Split.Validation,
        "test" => Split.Test,
        _ => throw new ArgumentException($"unknown split '{name}' (expected train, validation or test)."),
    };

    /// <summary>The lower-case name used on the command line and in dumps.</summary>
    public static string Name(this Split split) => split switch
    {
        Split.Train => "train",
        Split.Validation => "validation",
        Split.Test => "test",
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown split."),
    };
}
