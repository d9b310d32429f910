using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DecodeAlign.Kernels;

/// <summary>
/// CPU implementation of the <see cref="FixedPointMass"/> row pipeline: masses (AVX2 where available, the same
/// integer operations lane by lane), the nucleus cut by a log-mantissa histogram instead of a sort, and the draw.
/// Results are identical to the scalar definition by construction (same integer arithmetic, same ordering rules).
/// </summary>
internal static class SimdMassRow
{
    private const int Buckets = 64 + 35 * 32;

    /// <summary>Writes each value's mass (0 below <paramref name="minMass"/>) into <paramref name="w"/> and returns the total.</summary>
    public static ulong Masses(ReadOnlySpan<float> values, float max, float scale, ulong minMass, Span<ulong> w)
    {
        int i = 0;
        ulong total = 0;
        if (Avx2.IsSupported && values.Length >= 8)
        {
            var maxV = Vector256.Create(max);
            var scaleV = Vector256.Create(scale);
            var minE = Vector256.Create(FixedPointMass.MinExponent);
            var two24 = Vector256.Create(-16777216f);
            var fracMask = Vector256.Create(0xFFFFFF);
            var base24 = Vector256.Create(16777216);
            var one = Vector256.Create(FixedPointMass.One);
            var minM = Vector256.Create((long)minMass - 1);
            var sum = Vector256<ulong>.Zero;
            ref float src = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(values);
            for (; i <= values.Length - 8; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref src, (nuint)i);
                var t = Avx.Multiply(Avx.Subtract(x, maxV), scaleV);
                var valid = Avx.CompareGreaterThanOrEqual(t, minE).AsInt32();
                if (Avx.TestZ(valid, valid))
                {
                    w.Slice(i, 8).Clear();
                    continue;
                }
                var q = Avx.ConvertToVector256Int32WithTruncation(Avx.Multiply(t, two24));
                var frac = Avx2.And(q, fracMask);
                var n = Avx2.ShiftRightArithmetic(q, 24);
                var g = Avx2.ShiftLeftLogical(Avx2.Subtract(base24, frac), 8); // wraps to 0 when frac = 0, blended below
                var exact = Avx2.CompareEqual(frac, Vector256<int>.Zero);
                for (int half = 0; half < 2; half++)
                {
                    var g64 = Avx2.ConvertToVector256Int64(half == 0 ? g.GetLower() : g.GetUpper()).AsUInt64() & Vector256.Create(0xFFFFFFFFUL);
                    var n64 = Avx2.ConvertToVector256Int64(half == 0 ? n.GetLower() : n.GetUpper()).AsUInt64();
                    var v64 = Avx2.ConvertToVector256Int64(half == 0 ? valid.GetLower() : valid.GetUpper());
                    var e64 = Avx2.ConvertToVector256Int64(half == 0 ? exact.GetLower() : exact.GetUpper());
                    var g32 = g64.AsUInt32();
                    var acc = Vector256.Create(FixedPointMass.C6);
                    acc = Vector256.Create(FixedPointMass.C5) + Avx2.ShiftRightLogical(Avx2.Multiply(acc.AsUInt32(), g32), 32);
                    acc = Vector256.Create(FixedPointMass.C4) + Avx2.ShiftRightLogical(Avx2.Multiply(acc.AsUInt32(), g32), 32);
                    acc = Vector256.Create(FixedPointMass.C3) + Avx2.ShiftRightLogical(Avx2.Multiply(acc.AsUInt32(), g32), 32);
                    acc = Vector256.Create(FixedPointMass.C2) + Avx2.ShiftRightLogical(Avx2.Multiply(acc.AsUInt32(), g32), 32);
                    acc = Vector256.Create(FixedPointMass.C1) + Avx2.ShiftRightLogical(Avx2.Multiply(acc.AsUInt32(), g32), 32);
                    acc = Vector256.Create(FixedPointMass.C0) + Avx2.ShiftRightLogical(Avx2.Multiply(acc.AsUInt32(), g32), 32);
                    var poly = Avx2.ShiftRightLogicalVariable(Avx2.ShiftLeftLogical(acc, 10), n64 + Vector256<ulong>.One);
                    var pow = Avx2.ShiftRightLogicalVariable(one, n64);
                    var res = Avx2.BlendVariable(poly, pow, e64.AsUInt64());
                    res = Avx2.And(res, v64.AsUInt64());
                    res = Avx2.AndNot(Avx2.CompareGreaterThan(minM, res.AsInt64()).AsUInt64(), res);
                    res.StoreUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w), (nuint)(i + half * 4));
                    sum += res;
                }
            }
            total = Vector256.Sum(sum);
        }
        for (; i < values.Length; i++)
        {
            ulong m = FixedPointMass.Weight(values[i], max, scale);
            if (m < minMass) m = 0;
            w[i] = m;
            total += m;
        }
        return total;
    }

    /// <summary>Monotone bucket of a mass: exact below 64, else 64 + 32·(log2 − 6) + the next five mantissa bits.</summary>
    private static int Bucket(ulong w)
    {
        if (w < 64) return (int)w;
        int e = BitOperations.Log2(w);
        return 64 + (e - 6) * 32 + (int)((w >> (e - 5)) & 31);
    }

    /// <summary>Sort key ordering (mass desc, id asc) as one ascending ulong: masses are below 2^41, ids below 2^23.</summary>
    private static ulong OrderKey(ulong w, int id) => ((2 * FixedPointMass.One - 1 - w) << 23) | (uint)id;

    private static ulong MassOfKey(ulong key) => 2 * FixedPointMass.One - 1 - (key >> 23);

    private const int MaxPackedId = 1 << 23;

    [ThreadStatic] private static ulong[]? t_keys;

    /// <summary>
    /// Zeroes every mass outside the nucleus: the most massive tokens, in (mass desc, id asc) order, until their sum
    /// reaches ⌈total · p⌉. Returns the kept mass. A few SIMD passes find a power-of-two level L whose tokens
    /// (W ≥ L) already hold the nucleus mass; a mass-weighted quickselect over those candidates (packed
    /// (mass, id) keys, expected linear time) then finds the last kept token without sorting.
    /// </summary>
    public static ulong Nucleus(Span<ulong> w, ulong total, ulong pq)
    {
        ulong need = FixedPointMass.NucleusMass(total, pq);
        if (need >= total) return total;
        if (w.Length >= MaxPackedId) return HistogramNucleus(w, need);
        // Start low enough that one pass usually suffices (the quickselect handles the extra candidates cheaply).
        ulong level = FixedPointMass.One >> 12;
        while (level > 1 && MassAtLeast(w, level) < need) level = level >> 7 == 0 ? 1 : level >> 7;
        if (t_keys is null || t_keys.Length < w.Length) t_keys = new ulong[w.Length]; // room for every token: no counting pass
        var keys = t_keys.AsSpan(0, Collect(w, level, t_keys));

        // keys[0..lo) are known to be kept (mass `before`); the last kept key lies in [lo, hi).
        int lo = 0, hi = keys.Length;
        ulong before = 0;
        while (hi - lo > 32)
        {
            ulong x = keys[lo], y = keys[(lo + hi) >> 1], z = keys[hi - 1];
            ulong pivot = Math.Max(Math.Min(x, y), Math.Min(Math.Max(x, y), z)); // median of three distinct keys
            int i = lo;
            ulong mass = 0;
            for (int j = lo; j < hi; j++)
            {
                ulong key = keys[j];
                if (key < pivot) { keys[j] = keys[i]; keys[i++] = key; mass += MassOfKey(key); }
            }
            if (before + mass >= need) hi = i;
            else { before += mass; lo = i; }
        }
        keys[lo..hi].Sort();
        int last = lo;
        for (; ; last++)
        {
            before += MassOfKey(keys[last]);
            if (before >= need) break;
        }
        ulong lastKey = keys[last], lastMass = MassOfKey(lastKey);
        ZeroBelow(w, lastMass);
        foreach (ulong key in keys)
            if (key > lastKey && MassOfKey(key) == lastMass) w[(int)(key & (MaxPackedId - 1))] = 0; // equal mass, higher id
        return before;
    }

    /// <summary>Packed keys of every mass ≥ <paramref name="level"/>, skipping whole vectors below it; returns their count.</summary>
    private static int Collect(ReadOnlySpan<ulong> w, ulong level, Span<ulong> keys)
    {
        int i = 0, n = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var below = Vector256.Create(level - 1);
            ref ulong start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            for (; i + 4 <= w.Length; i += 4)
            {
                if (!Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref start, (nuint)i), below)) continue;
                for (int j = i; j < i + 4; j++) if (w[j] >= level) keys[n++] = OrderKey(w[j], j);
            }
        }
        for (; i < w.Length; i++) if (w[i] >= level) keys[n++] = OrderKey(w[i], i);
        return n;
    }

    private static ulong MassAtLeast(ReadOnlySpan<ulong> w, ulong level)
    {
        int i = 0;
        ulong sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var below = Vector256.Create(level - 1);
            var acc = Vector256<ulong>.Zero;
            ref ulong start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            for (; i + 4 <= w.Length; i += 4)
            {
                var x = Vector256.LoadUnsafe(ref start, (nuint)i);
                acc += x & Vector256.GreaterThan(x, below);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < w.Length; i++) if (w[i] >= level) sum += w[i];
        return sum;
    }

    private static void ZeroBelow(Span<ulong> w, ulong level)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var below = Vector256.Create(level - 1);
            ref ulong start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            for (; i + 4 <= w.Length; i += 4)
            {
                var x = Vector256.LoadUnsafe(ref start, (nuint)i);
                (x & Vector256.GreaterThan(x, below)).StoreUnsafe(ref start, (nuint)i);
            }
        }
        for (; i < w.Length; i++) if (w[i] < level) w[i] = 0;
    }

    /// <summary>Nucleus by a mass histogram over <see cref="Bucket"/> (one pass) and a sort of the crossing bucket only.</summary>
    private static ulong HistogramNucleus(Span<ulong> w, ulong need)
    {
        Span<ulong> hist = stackalloc ulong[Buckets];
        hist.Clear();
        foreach (ulong x in w) if (x != 0) hist[Bucket(x)] += x;
        ulong above = 0;
        int b = Buckets - 1;
        for (; b > 0; b--)
        {
            if (above + hist[b] >= need) break;
            above += hist[b];
        }
        var inBucket = new List<(ulong W, int Id)>();
        for (int i = 0; i < w.Length; i++)
        {
            ulong x = w[i];
            if (x == 0) continue;
            int k = Bucket(x);
            if (k == b) { inBucket.Add((x, i)); w[i] = 0; }
            else if (k < b) w[i] = 0;
        }
        inBucket.Sort(static (a, c) => a.W != c.W ? c.W.CompareTo(a.W) : a.Id.CompareTo(c.Id));
        ulong kept = above;
        foreach (var (x, id) in inBucket)
        {
            if (kept >= need) break;
            w[id] = x;
            kept += x;
        }
        return kept;
    }

    /// <summary>First index whose inclusive prefix mass exceeds ⌊random · total / 2^64⌋ (total = Σ w &gt; 0).</summary>
    public static int Draw(ReadOnlySpan<ulong> w, ulong total, ulong random)
    {
        ulong target = FixedPointMass.Target(random, total), acc = 0;
        int i = 0;
        const int Block = 64;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ulong start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            for (; i + Block <= w.Length; i += Block)
            {
                var s = Vector256<ulong>.Zero;
                for (int j = 0; j < Block; j += 4) s += Vector256.LoadUnsafe(ref start, (nuint)(i + j));
                ulong blockMass = Vector256.Sum(s);
                if (acc + blockMass > target) break;
                acc += blockMass;
            }
        }
        for (; i < w.Length; i++)
        {
            acc += w[i];
            if (acc > target) return i;
        }
        throw new InvalidOperationException("unreachable: draw target not below the total mass");
    }
}
