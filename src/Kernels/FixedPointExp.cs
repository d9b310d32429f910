namespace DecodeAlign.Kernels;

/// <summary>
/// Fine integer exp for the few-values-per-call decisions (weighted votes, Metropolis–Hastings acceptance) and for
/// generating the <see cref="FixedPointMass"/> table: they compare masses of near-tied candidates, so they keep a
/// 3e-8 relative error where the per-token sampling mass trades precision (8.5e-5) for speed.
/// A value y with maximum m at multiplier s gets W = round-down(2^40 · 2^t) with t = (y − m) · s, computed as: one
/// float subtraction and one float multiplication (both correctly rounded, and not an a·b+c pattern that a GPU
/// compiler could contract into an FMA), an exact scaling by 2^24 and truncation to an integer q, then 2^(−q/2^24)
/// by a degree-6 polynomial in Q30/Q32 fixed point with 64-bit integer multiplies. Relative error against exp is
/// below 3e-8; values with t &lt; −40 get 0.
/// </summary>
public static class FixedPointExp
{
    /// <summary>Weight of the maximum: 2^40.</summary>
    public const ulong One = 1UL << 40;

    /// <summary>Lowest exponent (log2 units below the maximum) that still carries weight.</summary>
    public const float MinExponent = -40f;

    /// <summary>Weight of <paramref name="y"/> against maximum <paramref name="max"/> at multiplier <paramref name="scale"/> (see <see cref="FixedPointMass.ScaleFor"/>).</summary>
    public static ulong Weight(float y, float max, float scale)
    {
        float t = (y - max) * scale;
        if (!(t >= MinExponent)) return 0; // also −∞ values
        int q = (int)(-t * 16777216f);
        return Exp2Neg(q);
    }

    /// <summary>Polynomial coefficients (Q30) of 2^g on [0, 1], lowest order first.</summary>
    internal const ulong C0 = 1073741827, C1 = 744260852, C2 = 257945486, C3 = 59571873, C4 = 10398316, C5 = 1330509, C6 = 234782;

    /// <summary>2^40 · 2^(−q / 2^24) for 0 ≤ q ≤ 40·2^24, in integer arithmetic only.</summary>
    public static ulong Exp2Neg(int q)
    {
        // 2^(−q/2^24) = 2^(−(n+1)) · 2^g with n = ⌊q/2^24⌋ and g = 1 − frac ∈ (0, 1); 2^g by a degree-6 polynomial
        // interpolating 2^x at the Chebyshev nodes of [0, 1] (relative error 3.3e-9), coefficients in Q30, g in Q32.
        int n = q >> 24;
        if ((q & 0xFFFFFF) == 0) return One >> n; // exact powers of two (g = 1 would leave Q32)
        ulong g = (ulong)(16777216 - (q & 0xFFFFFF)) << 8; // Q32, < 2^32
        ulong acc = C6;
        acc = C5 + ((acc * g) >> 32);
        acc = C4 + ((acc * g) >> 32);
        acc = C3 + ((acc * g) >> 32);
        acc = C2 + ((acc * g) >> 32);
        acc = C1 + ((acc * g) >> 32);
        acc = C0 + ((acc * g) >> 32);                     // Q30, about [2^30, 2^31)
        return (acc << 10) >> (n + 1);
    }

    /// <summary>
    /// Metropolis–Hastings threshold ⌊2^32 · exp(clamp(Δ, −20, 20))⌋ (2^32 when Δ ≥ 0): accept iff a uniform
    /// 32-bit integer is below it.
    /// </summary>
    public static ulong AcceptThreshold(float delta)
    {
        if (delta >= 0f) return 1UL << 32;
        float clamped = delta < -20f ? -20f : delta;
        return Weight(clamped, 0f, FixedPointMass.ScaleFor(1f)) >> 8;
    }
}
