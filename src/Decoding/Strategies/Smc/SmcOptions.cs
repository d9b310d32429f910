using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of <see cref="SmcStrategy"/>.</summary>
public sealed record SmcOptions
{
    /// <summary>Particles N per prompt (≥ 1).</summary>
    public int Particles { get; init; } = 16;

    /// <summary>Resample a prompt's particles when their effective sample size falls below this fraction of N (in [0, 1]; 0 = never).</summary>
    public double EssThreshold { get; init; } = 0.5;

    /// <summary>Reward temperature β &gt; 0: the target is ∝ p(y)·exp(r(y)/β).</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Tokens each particle advances between weight updates (≥ 1).</summary>
    public int BlockSize { get; init; } = 1;

    /// <summary>How the returned response is picked from the final particles.</summary>
    public SmcSelection Selection { get; init; } = SmcSelection.HighestWeight;

    /// <summary>How ancestors are drawn when resampling.</summary>
    public ResamplingScheme Resampling { get; init; } = ResamplingScheme.Systematic;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Particles < 1) throw new ArgumentException($"particles must be >= 1 (got {Particles})");
        if (!(EssThreshold >= 0 && EssThreshold <= 1)) throw new ArgumentException($"ess threshold must be in [0, 1] (got {EssThreshold})");
        if (!(Beta > 0f) || float.IsInfinity(Beta)) throw new ArgumentException($"beta must be > 0 and finite (got {Beta})");
        if (BlockSize < 1) throw new ArgumentException($"block size must be >= 1 (got {BlockSize})");
        if (!Enum.IsDefined(Selection)) throw new ArgumentException($"unknown smc selection {Selection}");
        if (!Enum.IsDefined(Resampling)) throw new ArgumentException($"unknown resampling scheme {Resampling}");
    }
}
