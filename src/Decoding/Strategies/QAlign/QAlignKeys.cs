using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Where QAlign's random draws come from. Chain k (= prompt · chains per prompt + chain) at MCMC step s owns the
/// Philox row id k·2^32 + s: its regenerated tokens use step = token position in the response (≥ 0), its cut point
/// and its acceptance two reserved negative steps that no position reaches. A chain's draws therefore depend neither
/// on the other prompts in the batch nor on the number of steps (a shorter run is a prefix of a longer one).
/// </summary>
internal static class QAlignKeys
{
    /// <summary>Step of the cut-point draw.</summary>
    public const int CutStep = -1;

    /// <summary>Step of the acceptance draw.</summary>
    public const int AcceptStep = -2;

    /// <summary>Philox row id of chain <paramref name="chain"/> at MCMC step <paramref name="mcmcStep"/> (0 = the initial sample).</summary>
    public static long RowId(int chain, int mcmcStep) => ((long)chain << 32) | (uint)mcmcStep;

    /// <summary>Key of the first response token; the generator adds the token position to its step.</summary>
    public static SampleKey Suffix(int chain, int mcmcStep) => new(RowId(chain, mcmcStep), 0);

    /// <summary>Key of the cut-point draw.</summary>
    public static SampleKey Cut(int chain, int mcmcStep) => new(RowId(chain, mcmcStep), CutStep);

    /// <summary>Key of the acceptance draw.</summary>
    public static SampleKey Accept(int chain, int mcmcStep) => new(RowId(chain, mcmcStep), AcceptStep);
}
