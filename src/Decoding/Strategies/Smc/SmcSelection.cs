namespace DecodeAlign.Decoding.Strategies;

/// <summary>How SMC turns its final weighted particles into one response.</summary>
public enum SmcSelection
{
    /// <summary>The particle with the highest final weight (ties: lowest particle index).</summary>
    HighestWeight,

    /// <summary>The answer with the most final weight, argmax_a Σ_i W_i · 1[ans(y_i) = a]; returns its highest-weight particle.</summary>
    WeightedVote,
}
