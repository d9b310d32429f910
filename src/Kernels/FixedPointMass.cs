namespace DecodeAlign.Kernels;

/// <summary>
/// Integer probability mass used for every sampling decision, so that sampled ids are bit-identical on all backends.
/// A logit y with row maximum m at temperature τ gets mass W = round-down(2^40 · 2^t) with t = (y − m) · (log2 e / τ),
/// computed as: one float subtraction and one float multiplication (both correctly rounded, and not an a·b+c pattern
/// that a GPU compiler could contract into an FMA), an exact scaling by 2^24 and truncation to an integer q, then
/// 2^(−q/2^24) by a degree-6 polynomial in Q30/Q32 fixed point with 64-bit integer multiplies. Masses are
/// summed as integers (associative), so prefix sums, thresholds and the chosen id do not depend on summation order.
/// Relative error of a mass against exp is below 3e-8; tokens with t &lt; −40 (probability below 2^-40 ≈ 9e-13 of
/// the top token) get mass 0 and are never sampled.
/// </summary>
public static class FixedPointMass
{
    /// <summary>Mass of the top token: 2^40.</summary>
    public const ulong One = 1UL << 40;

    /// <summary>Lowest exponent (log2 units below the maximum) that still carries mass.</summary>
    public const float MinExponent = -40f;

    /// <summary>log2(e) / τ as the float multiplier applied to (y − max); τ must be &gt; 0.</summary>
    public static float ScaleFor(float temperature) => (float)(1.4426950408889634 / temperature);

    /// <summary>Mass of logit <paramref name="y"/> against row maximum <paramref name="max"/> at multiplier <paramref name="scale"/>.</summary>
    public static ulong Weight(float y, float max, float scale)
    {
        float t = (y - max) * scale;
        if (!(t >= MinExponent)) return 0; // also −∞ logits
        int q = (int)(-t * 16777216f);
        return Exp2Neg(q);
    }

    /// <summary>Polynomial coefficients (Q30) of 2^g on [0, 1], lowest order first; shared with the SIMD path.</summary>
    internal const ulong C0 = 1073741827, C1 = 744260852, C2 = 257945486, C3 = 59571873, C4 = 10398316, C5 = 1330509, C6 = 234782;

    /// <summary>2^40 · 2^(−q / 2^24) for 0 ≤ q ≤ 40·2^24, in integer arithmetic only.</summary>
    public static ulong Exp2Neg(int q)
    {
        // 2^(−q/2^24) = 2^(−(n+1)) · 2^g with n = ⌊q/2^24⌋ and g = 1 − frac ∈ (0, 1); 2^g by a degree-6 polynomial
        // interpolating 2^x at the Chebyshev nodes of [0, 1] (relative error 3.3e-9), coefficients in Q30, g in Q32.
        int n = q >> 24;
        if ((q & 0xFFFFFF) == 0) return One >> n; // exact powers of two (g = 1 would not fit the 32-bit lanes of the SIMD path)
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

    /// <summary>Min-p mass threshold ⌈minP · 2^40⌉: tokens below it are dropped (the top token always stays).</summary>
    public static ulong MinPMass(float minP) => (ulong)Math.Ceiling(minP * (double)One);

    /// <summary>
    /// Metropolis–Hastings threshold ⌊2^32 · exp(clamp(Δ, −20, 20))⌋ (2^32 when Δ ≥ 0): accept iff a uniform
    /// 32-bit integer is below it.
    /// </summary>
    public static ulong AcceptThreshold(float delta)
    {
        if (delta >= 0f) return 1UL << 32;
        float clamped = delta < -20f ? -20f : delta;
        return Weight(clamped, 0f, ScaleFor(1f)) >> 8;
    }
}
