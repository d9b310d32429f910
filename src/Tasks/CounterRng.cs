namespace DecodeAlign.Tasks;

/// <summary>
/// A counter-based SplitMix64 generator (Steele, Lea and Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014).
/// The task generators use it instead of <see cref="Random"/>, whose sequence is not promised to stay the same across .NET
/// versions: a problem must be identical wherever and whenever it is generated, since models are trained and graded on it.
/// </summary>
public struct CounterRng
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>A generator whose whole sequence is determined by <paramref name="seed"/>.</summary>
    public CounterRng(ulong seed)
    {
        // Mixing the seed first keeps neighbouring seeds (consecutive problem indices) from starting on related states.
        _state = Mix(seed ^ 0x6A09E667F3BCC909UL);
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>] (both inclusive).</summary>
    public int Next(int min, int max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max), $"max ({max}) < min ({min}).");
        var range = (ulong)((long)max - min + 1);
        // Rejection sampling removes the modulo bias, so the distribution is exact, not merely close.
        var limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (int)((long)min + (long)(x % range));
    }

    /// <summary>A uniformly chosen element of <paramref name="items"/>.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count - 1)];

    /// <summary>The SplitMix64 finaliser (a variant of MurmurHash3's fmix64).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
