namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of Transfer Q* decoding (<see cref="TransferQStrategy"/>).</summary>
public sealed record TransferQOptions
{
    /// <summary>Candidates k per step: the base LM's k most likely next tokens.</summary>
    public int TopK { get; init; } = 10;

    /// <summary>Weight α of the estimated Q in π(z | s) ∝ π_base(z | s)·exp(α·Q̂(s, z)).</summary>
    public float Alpha { get; init; } = 1f;

    /// <summary>Rollout length L: tokens the baseline policy generates after each candidate (fewer where it ends or the budget does).</summary>
    public int RolloutLength { get; init; } = 16;

    /// <summary>Rollouts m per candidate; Q̂ averages their rewards (importance-weighted for indirect transfer).</summary>
    public int Rollouts { get; init; } = 1;

    /// <summary>β of indirect transfer: rollout j gets weight exp((r_j − r_BL,j)/β), self-normalised over the candidate's m rollouts.</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Temperature of the baseline rollouts: 0 (the default) is greedy, 1 samples ρ_BL.</summary>
    public float RolloutTemperature { get; init; }

    /// <summary>Temperature of the choice among the k candidates: 1 samples π(z | s) itself, 0 takes its argmax.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option; checks top-k against <paramref name="vocabSize"/> when given.</summary>
    public void Validate(int? vocabSize = null)
    {
        if (TopK < 1) throw new ArgumentException($"top-k must be >= 1 (got {TopK})");
        if (TopK > vocabSize) throw new ArgumentException($"top-k {TopK} exceeds the vocabulary ({vocabSize})");
        if (!float.IsFinite(Alpha)) throw new ArgumentException($"alpha must be finite (got {Alpha})");
        if (RolloutLength < 0) throw new ArgumentException($"rollout length must be >= 0 (got {RolloutLength})");
        if (Rollouts < 1) throw new ArgumentException($"rollouts must be >= 1 (got {Rollouts})");
        if (!(Beta > 0f) || float.IsInfinity(Beta)) throw new ArgumentException($"beta must be > 0 and finite (got {Beta})");
        if (!(RolloutTemperature >= 0f) || float.IsInfinity(RolloutTemperature)) throw new ArgumentException($"rollout temperature must be >= 0 and finite (got {RolloutTemperature})");
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be >= 0 and finite (got {Temperature}); 0 means argmax");
    }
}
