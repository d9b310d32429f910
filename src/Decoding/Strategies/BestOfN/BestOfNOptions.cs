namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of <see cref="BestOfNStrategy"/>.</summary>
public sealed record BestOfNOptions
{
    /// <summary>Candidates sampled per prompt (N ≥ 1).</summary>
    public int N { get; init; } = 16;

    /// <summary>How the returned candidate is chosen.</summary>
    public BestOfNSelector Selector { get; init; } = BestOfNSelector.Argmax;

    /// <summary>Temperature β &gt; 0 of the weighted vote's softmax(r/β).</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Token counts (ascending, ≥ 1) at which running candidates are scored by the prefix scorer and pruned; empty = no pruning.</summary>
    public IReadOnlyList<int> PruneAt { get; init; } = [];

    /// <summary>Fraction α ∈ [0, 1) of a prompt's running candidates dropped at each prune point (⌊α·m⌋ of m); used only with <see cref="PruneAt"/>.</summary>
    public double PruneFraction { get; init; } = 0.5;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (N < 1) throw new ArgumentException($"n must be >= 1 (got {N})");
        if (!Enum.IsDefined(Selector)) throw new ArgumentException($"unknown best-of-n selector {Selector}");
        if (!(Beta > 0f) || float.IsInfinity(Beta)) throw new ArgumentException($"beta must be > 0 and finite (got {Beta})");
        for (var i = 0; i < PruneAt.Count; i++)
        {
            if (PruneAt[i] < 1) throw new ArgumentException($"prune-at token counts must be >= 1 (got {PruneAt[i]})");
            if (i > 0 && PruneAt[i] <= PruneAt[i - 1]) throw new ArgumentException($"prune-at token counts must be strictly ascending (got {string.Join(", ", PruneAt)})");
        }
        if (!(PruneFraction >= 0 && PruneFraction < 1)) throw new ArgumentException($"prune fraction must be in [0, 1) (got {PruneFraction})");
    }
}
