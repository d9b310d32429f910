namespace DecodeAlign.Kernels;

/// <summary>
/// Identifies one random draw site: a row's stable id (e.g. candidate index within a request, never its batch
/// position) and the decoding step. Together with the seed it fully determines the random numbers a row uses.
/// </summary>
/// <param name="RowId">Stable id of the row (or chain, or particle group).</param>
/// <param name="Step">Decoding step (or MCMC / SMC iteration).</param>
public readonly record struct SampleKey(long RowId, int Step);
