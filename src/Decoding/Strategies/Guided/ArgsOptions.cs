namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of ARGS reward-guided decoding (<see cref="ArgsStrategy"/>).</summary>
public sealed record ArgsOptions
{
    /// <summary>Candidates per step k: the tokens with the highest base logits, each scored by the prefix scorer.</summary>
    public int TopK { get; init; } = 10;

    /// <summary>Weight w of the prefix reward in s(v) = logit(v) + w·R([x, y&lt;t, v]); 0 gives top-k decoding of the LM alone.</summary>
    public float Weight { get; init; } = 1f;

    /// <summary>Temperature τ of the choice among the k candidates: 0 takes argmax s (greedy ARGS), τ &gt; 0 samples softmax(s / τ).</summary>
    public float Temperature { get; init; }

    /// <summary>
    /// Run the LM's next step on each row's highest-logit token while the scorer runs (on another thread), rewinding rows
    /// where another token was chosen. Outputs are the same with or without a second core; off, the two calls alternate.
    /// </summary>
    public bool Speculate { get; init; } = true;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option; checks top-k against <paramref name="vocabSize"/> when given.</summary>
    public void Validate(int? vocabSize = null)
    {
        if (TopK < 1) throw new ArgumentException($"top-k must be >= 1 (got {TopK})");
        if (TopK > vocabSize) throw new ArgumentException($"top-k {TopK} exceeds the vocabulary ({vocabSize})");
        if (!(Weight >= 0f) || float.IsInfinity(Weight)) throw new ArgumentException($"weight must be >= 0 and finite (got {Weight})");
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature))
            throw new ArgumentException($"temperature must be >= 0 and finite (got {Temperature}); 0 means greedy");
    }
}
