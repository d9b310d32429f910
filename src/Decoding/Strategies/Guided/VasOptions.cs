namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of value-augmented sampling (<see cref="VasStrategy"/>); the value models and their β come from <see cref="Potentials.Values"/>.</summary>
public sealed record VasOptions
{
    /// <summary>Tokens k per step whose logits get the centred values added: the k highest base logits; the rest keep their base logits.</summary>
    public int TopK { get; init; } = 20;

    /// <summary>Temperature τ of the draw from softmax(augmented logits / τ); 0 takes the argmax.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option; checks top-k against <paramref name="vocabSize"/> when given.</summary>
    public void Validate(int? vocabSize = null)
    {
        if (TopK < 1) throw new ArgumentException($"top-k must be >= 1 (got {TopK})");
        if (TopK > vocabSize) throw new ArgumentException($"top-k {TopK} exceeds the vocabulary ({vocabSize})");
        if (!(Temperature >= 0f) || float.IsInfinity(Temperature))
            throw new ArgumentException($"temperature must be >= 0 and finite (got {Temperature}); 0 means greedy");
    }
}
