namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of DeAL heuristic-guided search (<see cref="DealStrategy"/>).</summary>
public sealed record DealOptions
{
    /// <summary>Candidates k per beam and step: the beam's k most likely next tokens.</summary>
    public int TopK { get; init; } = 5;

    /// <summary>Lookahead l: tokens rolled out from every candidate before the heuristic scores it (0 scores the candidate prefix itself).</summary>
    public int Lookahead { get; init; } = 8;

    /// <summary>Beams b kept per prompt after every step.</summary>
    public int Beams { get; init; } = 2;

    /// <summary>Weight λ of the heuristic in c = log P(y₁..t | x) + λ·h(y₁..t+l); 0 gives beam search on log P.</summary>
    public float Lambda { get; init; } = 1f;

    /// <summary>Temperature of the lookahead rollouts: 0 (the default) is greedy, τ &gt; 0 samples.</summary>
    public float LookaheadTemperature { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option; checks top-k against <paramref name="vocabSize"/> when given.</summary>
    public void Validate(int? vocabSize = null)
    {
        if (TopK < 1) throw new ArgumentException($"top-k must be >= 1 (got {TopK})");
        if (TopK > vocabSize) throw new ArgumentException($"top-k {TopK} exceeds the vocabulary ({vocabSize})");
        if (Lookahead < 0) throw new ArgumentException($"lookahead must be >= 0 (got {Lookahead})");
        if (Beams < 1) throw new ArgumentException($"beams must be >= 1 (got {Beams})");
        if (!(Lambda >= 0f) || float.IsInfinity(Lambda)) throw new ArgumentException($"lambda must be >= 0 and finite (got {Lambda})");
        if (!(LookaheadTemperature >= 0f) || float.IsInfinity(LookaheadTemperature))
            throw new ArgumentException($"lookahead temperature must be >= 0 and finite (got {LookaheadTemperature}); 0 means greedy");
    }
}
