namespace DecodeAlign.Kernels;

/// <summary>
/// Per-batch sampling options, applied in this order: penalties → temperature → top-k → min-p → top-p → draw.
/// Temperature 0 means greedy argmax (lowest id on ties); the other filters are then ignored.
/// </summary>
public sealed record SamplingParameters
{
    /// <summary>Softmax temperature τ ≥ 0; 0 = greedy.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep the k highest logits (ties: lowest id); 0 = no top-k.</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus mass p ∈ (0, 1]; 1 = no top-p.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Min-p ∈ [0, 1]: drop tokens whose probability is below MinP × the top probability; 0 = off.</summary>
    public float MinP { get; init; }

    /// <summary>CTRL repetition penalty r &gt; 0 for tokens already generated (x&gt;0: x/r, else x·r); 1 = off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Subtracted once per earlier occurrence of a token (OpenAI frequency penalty); 0 = off.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted once from every token that occurred at least once (OpenAI presence penalty); 0 = off.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Key of the Philox generator; with each row's <see cref="SampleKey"/> it fixes every draw.</summary>
    public ulong Seed { get; init; }

    /// <summary>True when any penalty differs from its neutral value.</summary>
    public bool HasPenalties => RepetitionPenalty != 1f || FrequencyPenalty != 0f || PresencePenalty != 0f;

    /// <summary>Greedy decoding: temperature 0, or so small that log2(e)/τ overflows float.</summary>
    internal bool Greedy => Temperature == 0f || !float.IsFinite(FixedPointMass.ScaleFor(Temperature));

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature))
            throw new ArgumentException($"temperature must be >= 0 and finite (got {Temperature}); 0 means greedy");
        if (TopK < 0) throw new ArgumentException($"top-k must be >= 0 (got {TopK}); 0 disables it");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1] (got {TopP})");
        if (!(MinP >= 0f && MinP <= 1f)) throw new ArgumentException($"min-p must be in [0, 1] (got {MinP})");
        if (!(RepetitionPenalty > 0f) || float.IsInfinity(RepetitionPenalty))
            throw new ArgumentException($"repetition penalty must be > 0 and finite (got {RepetitionPenalty})");
        if (!float.IsFinite(FrequencyPenalty)) throw new ArgumentException($"frequency penalty must be finite (got {FrequencyPenalty})");
        if (!float.IsFinite(PresencePenalty)) throw new ArgumentException($"presence penalty must be finite (got {PresencePenalty})");
    }
}
