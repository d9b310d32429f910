namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Which proposal and acceptance ratio <see cref="QAlignStrategy"/> uses. Only <see cref="Exact"/> targets
/// p(y)·exp(r(y)/β); the others exist so the definition tests can show that the same test catches each mistake.
/// </summary>
internal enum QAlignVariant
{
    /// <summary>Cuts over the n + 1 positions of y (tokens and end); log ratio (r(y′) − r(y))/β + log(|y|/|y′|).</summary>
    Exact,

    /// <summary>Drops the cut-point correction log(|y|/|y′|), so the chain favours short responses.</summary>
    WithoutLengthCorrection,

    /// <summary>Uses r(y′) − r(y) without /β, so the chain targets p·exp(r) whatever β is.</summary>
    WithoutBeta,

    /// <summary>Counts only the tokens as cut positions (|y| = max(n, 1)): a proposal ending at its cut cannot move back, so detailed balance fails.</summary>
    TokensOnlyCuts,
}
