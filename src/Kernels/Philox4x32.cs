namespace DecodeAlign.Kernels;

/// <summary>
/// Philox4x32-10 counter-based generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
/// A draw is a pure function of (key, counter), so a row's random numbers never depend on which other rows share
/// its batch or on the backend; only 32-bit integer multiply/xor is used, which every backend computes identically.
/// </summary>
public static class Philox4x32
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The four 32-bit outputs for counter (c0..c3) and key (k0, k1) after ten rounds.</summary>
    public static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
            k0 += W0; k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>
    /// 64 uniform bits for draw <paramref name="draw"/> of (seed, row id, step): counter = (row id low, row id high,
    /// step, draw), key = (seed low, seed high). The two first outputs form the result (low word first).
    /// </summary>
    public static ulong Next64(ulong seed, long rowId, int step, uint draw)
    {
        // Same rounds as Block, written without tuples so GPU kernels can call it.
        uint c0 = (uint)rowId, c1 = (uint)((ulong)rowId >> 32), c2 = (uint)step, c3 = draw, k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
            k0 += W0; k1 += W1;
        }
        return c0 | ((ulong)c1 << 32);
    }
}
