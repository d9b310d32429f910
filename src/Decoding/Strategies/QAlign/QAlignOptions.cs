namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of <see cref="QAlignStrategy"/>; the sampling temperature comes from <see cref="GenerationOptions.Sampling"/>.</summary>
public sealed record QAlignOptions
{
    /// <summary>Reward temperature β &gt; 0 of the target p_LM(y)·exp(r(y)/β) and of the weighted vote's softmax(r/β).</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Metropolis–Hastings steps per chain after the initial sample (the CLI's N, ≥ 1).</summary>
    public int Steps { get; init; } = 16;

    /// <summary>States y⁰ … y^(B−1) of each chain left out of the votes (0 ≤ B &lt; steps).</summary>
    public int BurnIn { get; init; }

    /// <summary>Independent chains per prompt (≥ 1), all run in the same batch; votes pool their states.</summary>
    public int ChainsPerPrompt { get; init; } = 1;

    /// <summary>How the returned response is chosen.</summary>
    public QAlignSelection Selection { get; init; } = QAlignSelection.LastState;

    /// <summary>The proposal and acceptance ratio; anything but the exact one is for tests that must see a wrong chain fail.</summary>
    internal QAlignVariant Variant { get; init; } = QAlignVariant.Exact;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(Beta > 0f)) throw new ArgumentException($"beta must be > 0 (got {Beta})");
        if (float.IsInfinity(Beta)) throw new ArgumentException($"beta must be finite (got {Beta})");
        if (Steps < 1) throw new ArgumentException($"steps must be >= 1 (got {Steps})");
        if (BurnIn < 0) throw new ArgumentException($"burn-in must be >= 0 (got {BurnIn})");
        if (BurnIn >= Steps) throw new ArgumentException($"burn-in {BurnIn} must be < steps {Steps}");
        if (ChainsPerPrompt < 1) throw new ArgumentException($"chains per prompt must be >= 1 (got {ChainsPerPrompt})");
        if (!Enum.IsDefined(Selection)) throw new ArgumentException($"unknown qalign selection {Selection}");
        if (!Enum.IsDefined(Variant)) throw new ArgumentException($"unknown qalign variant {Variant}");
    }
}
