namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// The incremental weight SMC uses. Only <see cref="Twisted"/> is correct; the others are the classic mistakes,
/// kept so the definition tests can show that their check detects them.
/// </summary>
internal enum SmcWeightRule
{
    /// <summary>G_t = exp((ψ_t − ψ_{t−1})/β) while running, exp((r − ψ_{t−1})/β) when the particle finishes.</summary>
    Twisted,

    /// <summary>Wrong: G_t = exp(ψ_t/β), final exp(r/β) (the previous twist is never divided out).</summary>
    NoTwistSubtraction,

    /// <summary>Wrong: the final increment is exp(r/β), leaving the last twist in the weight.</summary>
    TwistKeptAtEnd,
}
