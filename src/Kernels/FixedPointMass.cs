namespace DecodeAlign.Kernels;

/// <summary>
/// Integer probability mass of a token, used for every sampling and masking decision, so that sampled ids are
/// bit-identical on all backends; cheap enough (one table lookup and one shift) to run at memory speed.
/// A logit y with row maximum m at temperature τ gets the 32-bit mass
/// W = T[q mod 2^12] &gt;&gt; ⌊q / 2^12⌋ (0 when ⌊q / 2^12⌋ ≥ 32), with t = max((y − m) · (log2 e / τ), −32) and
/// q = ⌊(⌊−t · 2^13⌋ + 1) / 2⌋ = −t · 2^12 rounded to the nearest integer (halves up). t comes from one float
/// subtraction and one float multiplication (correctly rounded, not an a·b+c pattern a GPU compiler could contract into
/// an FMA); the scaling by 2^13 is exact and the rest is integer. T[j] ≈ 2^31 · 2^(−j/2^12) is the rounded Q31 product
/// of two 64-entry tables 2^31 · 2^(−⌊j/64⌋/64) and 2^31 · 2^(−(j mod 64)/4096), which are built once from the integer
/// polynomial of <see cref="FixedPointExp"/> (so the same bits everywhere, checked by a test); the product form lets
/// AVX-512 compute entries with in-register permutes instead of a slow gather. Error bound, against 2^t of the float t:
/// |W − 2^31 · 2^t| ≤ 8.5e-5 · 2^31 · 2^t + 1 (rounding q by at most half a step of 2^−12 costs a factor
/// 2^(±2^−13) = 1 ± 8.46e-5; table entries are within 6.5e-8 relative; the shift truncates less than 1). The top token gets
/// exactly 2^31; tokens more than about 31 log2 units below it (probability below 2^−31 ≈ 4.7e-10 of the top token) get 0
/// and are never sampled. Masses are summed in 64-bit integers (associative), so totals, thresholds and the chosen id
/// do not depend on summation order.
/// </summary>
public static class FixedPointMass
{
    /// <summary>Mass of the top token: 2^31.</summary>
    public const uint One = 1u << 31;

    /// <summary>Fraction bits of the quantised exponent q (the table has 2^FractionBits entries).</summary>
    public const int FractionBits = 12;

    /// <summary>Exponents (log2 units below the maximum) are clamped here, where the shift leaves no mass.</summary>
    public const float MinExponent = -32f;

    /// <summary>−2^(FractionBits + 1): t times this, truncated, is twice the quantised exponent before rounding.</summary>
    internal const float QuantizeScale = -(float)(2 << FractionBits);

    /// <summary>Mask of the table index bits of q.</summary>
    internal const int FractionMask = (1 << FractionBits) - 1;

    /// <summary>Split of the table index j = 64·h + l: T[j] is the rounded product of Coarse[h] and Fine[l].</summary>
    internal const int FineBits = 6;

    /// <summary>Coarse[h] = 2^31 · 2^(−h/64) rounded (64 entries), small enough for in-register lookups.</summary>
    internal static readonly uint[] Coarse = Q31Powers(1 << (FractionBits - FineBits), 24 - (FractionBits - FineBits));

    /// <summary>Fine[l] = 2^31 · 2^(−l/4096) rounded (64 entries).</summary>
    internal static readonly uint[] Fine = Q31Powers(1 << FineBits, 24 - FractionBits);

    /// <summary>T[j] = ⌊(Coarse[j / 64] · Fine[j mod 64] + 2^30) / 2^31⌋ ≈ 2^31 · 2^(−j/2^12), the host copy every backend reads.</summary>
    internal static readonly uint[] Table = BuildTable();

    /// <summary>Entries 2^31 · 2^(−k · 2^shift / 2^24) from the integer polynomial of <see cref="FixedPointExp"/>, rounded to Q31: the same bits on any machine.</summary>
    private static uint[] Q31Powers(int count, int shift)
    {
        var p = new uint[count];
        for (int k = 0; k < count; k++) p[k] = (uint)((FixedPointExp.Exp2Neg(k << shift) + 256) >> 9);
        return p;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[1 << FractionBits];
        for (int j = 0; j < table.Length; j++) table[j] = Product(Coarse[j >> FineBits], Fine[j & ((1 << FineBits) - 1)]);
        return table;
    }

    /// <summary>Rounded Q31 product ⌊(a · b + 2^30) / 2^31⌋ (the SIMD path computes table entries with it on the fly).</summary>
    internal static uint Product(uint a, uint b) => (uint)(((ulong)a * b + (1UL << 30)) >> 31);

    /// <summary>The mass table T (read-only), for backends that must copy it to a device.</summary>
    public static ReadOnlySpan<uint> ExpTable => Table;

    /// <summary>log2(e) / τ as the float multiplier applied to (y − max); τ must be &gt; 0.</summary>
    public static float ScaleFor(float temperature) => (float)(1.4426950408889634 / temperature);

    /// <summary>Quantised exponent q = round(−t · 2^12) of logit <paramref name="y"/>, in [0, 32 · 2^12].</summary>
    public static int Exponent(float y, float max, float scale)
    {
        float t = (y - max) * scale;
        if (!(t >= MinExponent)) t = MinExponent; // also −∞ logits
        int twice = (int)(t * QuantizeScale);
        return (twice + 1) >> 1;
    }

    /// <summary>Mass for exponent <paramref name="q"/> given its table entry T[q mod 2^12] (0 once the shift reaches 32).</summary>
    public static uint FromEntry(int q, uint entry)
    {
        int n = q >> FractionBits;
        return n < 32 ? entry >> n : 0u;
    }

    /// <summary>Mass of logit <paramref name="y"/> against row maximum <paramref name="max"/> at multiplier <paramref name="scale"/>.</summary>
    public static uint Weight(float y, float max, float scale)
    {
        int q = Exponent(y, max, scale);
        return FromEntry(q, Table[q & FractionMask]);
    }

    /// <summary>High 64 bits of the 128-bit product a·b (written with 32-bit halves so GPU kernels can use it too).</summary>
    public static ulong MulHigh(ulong a, ulong b)
    {
        ulong aL = (uint)a, aH = a >> 32, bL = (uint)b, bH = b >> 32;
        ulong ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
        ulong mid = (ll >> 32) + (uint)lh + (uint)hl;
        return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    }

    /// <summary>Target mass in [0, total) for a 64-bit uniform draw: ⌊r · total / 2^64⌋.</summary>
    public static ulong Target(ulong random, ulong total) => MulHigh(random, total);

    /// <summary>p quantised to Q32 (⌈p·2^32⌉), computed once on the host so every backend sees the same integer.</summary>
    public static ulong TopPQ32(float topP) => (ulong)Math.Ceiling(topP * 4294967296.0);

    /// <summary>Nucleus mass ⌈total · pq / 2^32⌉ for pq from <see cref="TopPQ32"/> (total &lt; 2^63).</summary>
    public static ulong NucleusMass(ulong total, ulong pq)
    {
        ulong hi = total >> 32, lo = (uint)total;
        return hi * pq + ((lo * pq + 0xFFFFFFFFUL) >> 32);
    }

    /// <summary>Min-p mass threshold ⌈minP · 2^31⌉: tokens below it are dropped (the top token always stays).</summary>
    public static uint MinPMass(float minP) => (uint)Math.Ceiling(minP * (double)One);
}
