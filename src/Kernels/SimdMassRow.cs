using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DecodeAlign.Kernels;

/// <summary>
/// CPU implementation of the <see cref="FixedPointMass"/> row pipeline in one pass over the logits plus work on a short
/// candidate list: the pass computes every mass (AVX-512: table entries from in-register lookups and a product; AVX2:
/// a gather from the table; otherwise the scalar definition), sums them, and left-packs the (mass, id) of the tokens at or above a level that
/// usually already holds the nucleus; the nucleus cut (mass-weighted quickselect) and the draw then run on those
/// candidates only, so no mass array is stored, zeroed or rescanned. Results equal the scalar definition by
/// construction (same integer arithmetic, same (mass desc, id asc) order, same draw rule).
/// </summary>
internal static class SimdMassRow
{
    /// <summary>
    /// First candidate level, 2^−12 of the top token: for peaked LM-like rows the nucleus lies far above it while only a
    /// few percent of tokens reach it; when it does not hold the nucleus the pass is repeated at the lowest level.
    /// </summary>
    public const uint FirstLevel = FixedPointMass.One >> 12;

    /// <summary>
    /// Second candidate level, 2^−16 of the top token, tried when <see cref="FirstLevel"/> misses the nucleus (on Gaussian
    /// 152k rows at τ 0.8, top-p 0.9, about one row in ten needs tokens just below 2^−12): still a few thousand candidates,
    /// where going straight to the lowest level would pack and quickselect nearly the whole row.
    /// </summary>
    public const uint SecondLevel = FixedPointMass.One >> 16;

    /// <summary>Candidates room beyond the row length: the packed stores always write a whole (up to 16-lane) vector.</summary>
    public const int Slack = 16;

    /// <summary>Row r of the AVX2 left-pack table: the lanes whose bit is set in r, in lane order.</summary>
    private static readonly int[] PackTable = BuildPackTable();

    private static int[] BuildPackTable()
    {
        var t = new int[256 * 8];
        for (int bits = 0; bits < 256; bits++)
            for (int lane = 0, n = 0; lane < 8; lane++)
                if ((bits >> lane & 1) != 0) t[bits * 8 + n++] = lane;
        return t;
    }

    /// <summary>
    /// Masses of <paramref name="values"/> (0 below <paramref name="minMass"/>): returns their total and writes the
    /// (mass, index) of every mass ≥ <paramref name="level"/> (≥ 1) in index order, returning their count in
    /// <paramref name="count"/>. <paramref name="mass"/> and <paramref name="ids"/> need <see cref="Slack"/> extra room.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot SIMD loops: skip the unoptimised tier and on-stack replacement
    public static unsafe ulong Candidates(ReadOnlySpan<float> values, float max, float scale, uint minMass, uint level,
        Span<uint> mass, Span<int> ids, out int count, ReadOnlySpan<float> prefetch = default)
    {
        if (mass.Length < values.Length + Slack || ids.Length < values.Length + Slack) throw new ArgumentException("candidate buffers too short");
        int i = 0, n = 0;
        ulong total = 0;
        fixed (uint* table = FixedPointMass.Table)
        fixed (int* pack = PackTable)
        fixed (float* src = values)
        fixed (uint* dm = mass)
        fixed (int* di = ids)
        fixed (float* next = prefetch)
        {
            // Lines of the next row (same length or shorter) are requested as this row's lines are consumed, so that
            // its maximum and mass passes read from cache while this compute-bound pass hides the memory latency.
            float* nextEnd = next + prefetch.Length;
            if (Avx512F.IsSupported && values.Length >= 16) i = Candidates512(src, values.Length, max, scale, minMass, level, dm, di, ref n, ref total, next, nextEnd);
            if (Avx2.IsSupported && values.Length - i >= 8)
            {
                var maxV = Vector256.Create(max);
                var scaleV = Vector256.Create(scale);
                var floorV = Vector256.Create(FixedPointMass.MinExponent);
                var quantV = Vector256.Create(FixedPointMass.QuantizeScale);
                var oneV = Vector256.Create(1);
                var fracV = Vector256.Create(FixedPointMass.FractionMask);
                var minV = Vector256.Create(minMass);
                var levelV = Vector256.Create(level);
                var low = Vector256.Create(0xFFFFFFFFUL);
                var idV = Vector256.Create(i) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                var eight = Vector256.Create(8);
                var sum = Vector256<ulong>.Zero;
                for (; i <= values.Length - 8; i += 8)
                {
                    if (next + i < nextEnd && (i & 15) == 0) Sse.Prefetch1(next + i);
                    var t = Avx.Max(Avx.Multiply(Avx.Subtract(Avx.LoadVector256(src + i), maxV), scaleV), floorV);
                    var q = Avx2.ShiftRightArithmetic(Avx2.Add(Avx.ConvertToVector256Int32WithTruncation(Avx.Multiply(t, quantV)), oneV), 1);
                    var entry = Avx2.GatherVector256(table, Avx2.And(q, fracV), 4);
                    var m = Avx2.ShiftRightLogicalVariable(entry, Avx2.ShiftRightLogical(q, FixedPointMass.FractionBits).AsUInt32());
                    m = Avx2.And(m, Vector256.GreaterThanOrEqual(m, minV));
                    var m64 = m.AsUInt64();
                    sum += (m64 & low) + (m64 >> 32);
                    int bits = Avx.MoveMask(Vector256.GreaterThanOrEqual(m, levelV).AsSingle());
                    var perm = Avx.LoadVector256(pack + bits * 8);
                    Avx.Store(dm + n, Avx2.PermuteVar8x32(m, perm.AsUInt32()));
                    Avx.Store(di + n, Avx2.PermuteVar8x32(idV, perm));
                    n += BitOperations.PopCount((uint)bits);
                    idV += eight;
                }
                total += Vector256.Sum(sum);
            }
            for (; i < values.Length; i++)
            {
                uint m = FixedPointMass.Weight(values[i], max, scale);
                if (m < minMass) m = 0;
                total += m;
                if (m >= level) { dm[n] = m; di[n++] = i; }
            }
        }
        count = n;
        return total;
    }

    /// <summary>
    /// The AVX-512 body of <see cref="Candidates"/> over whole 16-float vectors, returning where it stopped: table
    /// entries come from two in-register 64-entry lookups (permutes) and one rounded 32×32-bit product per lane, as in
    /// <see cref="FixedPointMass.Product"/>, and candidates are left-packed with a register compress (the
    /// memory-destination form is slow on some cores).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot SIMD loops: skip the unoptimised tier and on-stack replacement
    private static unsafe int Candidates512(float* src, int length, float max, float scale, uint minMass, uint level, uint* dm, int* di, ref int n, ref ulong total,
        float* next, float* nextEnd)
    {
        int i = 0;
        fixed (uint* pc = FixedPointMass.Coarse)
        fixed (uint* pf = FixedPointMass.Fine)
        {
            Vector512<uint> c0 = Vector512.Load(pc), c1 = Vector512.Load(pc + 16), c2 = Vector512.Load(pc + 32), c3 = Vector512.Load(pc + 48);
            Vector512<uint> f0 = Vector512.Load(pf), f1 = Vector512.Load(pf + 16), f2 = Vector512.Load(pf + 32), f3 = Vector512.Load(pf + 48);
            var maxV = Vector512.Create(max);
            var scaleV = Vector512.Create(scale);
            var floorV = Vector512.Create(FixedPointMass.MinExponent);
            var quantV = Vector512.Create(FixedPointMass.QuantizeScale);
            var oneV = Vector512.Create(1);
            var half = Vector512.Create(32u); // bit 5 of a 64-entry index: which pair of registers holds the entry
            var minV = Vector512.Create(minMass);
            var levelV = Vector512.Create(level);
            var low = Vector512.Create(0xFFFFFFFFUL);
            var round = Vector512.Create(1UL << 30);
            var idV = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15).AsUInt32();
            var sixteen = Vector512.Create(16u);
            var sum = Vector512<ulong>.Zero;
            for (; i <= length - 16; i += 16)
            {
                if (next + i < nextEnd) Sse.Prefetch1(next + i);
                var t = Avx512F.Max(Avx512F.Multiply(Avx512F.Subtract(Vector512.Load(src + i), maxV), scaleV), floorV);
                var q = Avx512F.ShiftRightArithmetic(Avx512F.Add(Avx512F.ConvertToVector512Int32WithTruncation(Avx512F.Multiply(t, quantV)), oneV), 1).AsUInt32();
                var h = Avx512F.ShiftRightLogical(q, FixedPointMass.FineBits);
                var a = Vector512.ConditionalSelect(Vector512.Equals(h & half, half), Avx512F.PermuteVar16x32x2(c2, h, c3), Avx512F.PermuteVar16x32x2(c0, h, c1));
                var b = Vector512.ConditionalSelect(Vector512.Equals(q & half, half), Avx512F.PermuteVar16x32x2(f2, q, f3), Avx512F.PermuteVar16x32x2(f0, q, f1));
                var even = Avx512F.Multiply(a, b); // products of lanes 0, 2, 4, …
                var odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), Avx512F.ShiftRightLogical(b.AsUInt64(), 32).AsUInt32());
                var entry = (Avx512F.ShiftRightLogical(even + round, 31) | (Avx512F.ShiftLeftLogical(odd + round, 1) & ~low)).AsUInt32();
                var m = Avx512F.ShiftRightLogicalVariable(entry, Avx512F.ShiftRightLogical(q, FixedPointMass.FractionBits));
                m &= Vector512.GreaterThanOrEqual(m, minV);
                var m64 = m.AsUInt64();
                sum += (m64 & low) + (m64 >> 32);
                var keep = Vector512.GreaterThanOrEqual(m, levelV);
                Vector512.Store(Avx512F.Compress(Vector512<uint>.Zero, keep, m), dm + n);
                Vector512.Store(Avx512F.Compress(Vector512<uint>.Zero, keep, idV), (uint*)di + n);
                n += BitOperations.PopCount((uint)keep.ExtractMostSignificantBits());
                idV += sixteen;
            }
            total += Vector512.Sum(sum);
        }
        return i;
    }

    /// <summary>Sort key ordering (mass desc, id asc) as one ascending ulong.</summary>
    public static ulong Key(uint mass, int id) => ((ulong)~mass << 32) | (uint)id;

    private static uint MassOfKey(ulong key) => ~(uint)(key >> 32);

    /// <summary>
    /// The nucleus among candidates that form a prefix of the (mass desc, id asc) order: the candidates, in that order,
    /// until their sum reaches <paramref name="need"/>. Returns false when all candidates together stay below it;
    /// otherwise the last kept key (a token is kept iff its <see cref="Key"/> ≤ it) and the kept mass. A mass-weighted
    /// quickselect over packed keys (expected linear time) finds the last kept key without sorting.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot SIMD loops: skip the unoptimised tier and on-stack replacement
    public static bool Nucleus(ReadOnlySpan<uint> mass, ReadOnlySpan<int> ids, ulong need, Span<ulong> keys, out ulong lastKey, out ulong kept)
    {
        ulong all = 0;
        foreach (uint m in mass) all += m;
        lastKey = ulong.MaxValue;
        kept = all;
        if (all < need) return false;
        if (all == need) return true; // every candidate is needed (masses are ≥ 1, so no shorter prefix reaches it)
        keys = keys[..mass.Length];
        for (int j = 0; j < mass.Length; j++) keys[j] = Key(mass[j], ids[j]);

        // keys[0..lo) are known to be kept (mass `before`); the last kept key lies in [lo, hi).
        int lo = 0, hi = keys.Length;
        ulong before = 0;
        while (hi - lo > 32)
        {
            ulong x = keys[lo], y = keys[(lo + hi) >> 1], z = keys[hi - 1];
            ulong pivot = Math.Max(Math.Min(x, y), Math.Min(Math.Max(x, y), z)); // median of three distinct keys
            int i = lo;
            ulong sum = 0;
            // Branch-free Lomuto partition: keys[i..j) stay ≥ pivot, so swapping unconditionally and advancing i only for
            // a smaller key keeps the invariant; the data-dependent branch mispredicted about every second key.
            for (int j = lo; j < hi; j++)
            {
                ulong key = keys[j];
                keys[j] = keys[i];
                keys[i] = key;
                ulong less = key < pivot ? 1UL : 0UL;
                i += (int)less;
                sum += MassOfKey(key) & (0UL - less);
            }
            if (before + sum >= need) hi = i;
            else { before += sum; lo = i; }
        }
        keys[lo..hi].Sort();
        int last = lo;
        for (; ; last++)
        {
            before += MassOfKey(keys[last]);
            if (before >= need) break;
        }
        lastKey = keys[last];
        kept = before;
        return true;
    }

    /// <summary>
    /// Candidates of a row (in <paramref name="ws"/>: Mass and Candidates, their count returned) and its nucleus
    /// (see <see cref="Nucleus"/>), cut at ⌈total · pq / 2^32⌉ when <paramref name="cut"/>, else keeping every token with
    /// mass. Collects at <see cref="FirstLevel"/> first when cutting, then at <see cref="SecondLevel"/>, then at the lowest
    /// level, each time only if the level before was too high (any level at or below the nucleus' smallest mass gives the
    /// same result).
    /// </summary>
    public static int Kept(ReadOnlySpan<float> values, float max, float scale, uint minMass, ulong pq, bool cut, SimdRowWorkspace ws,
        out ulong lastKey, out ulong kept, ReadOnlySpan<float> prefetch = default)
    {
        uint floor = Math.Max(minMass, 1u);
        uint level = cut ? Math.Max(FirstLevel, floor) : floor;
        var mass = SimdRowWorkspace.Grow(ref ws.Mass, values.Length + Slack);
        var ids = SimdRowWorkspace.Grow(ref ws.Candidates, values.Length + Slack);
        ulong total = Candidates(values, max, scale, minMass, level, mass, ids, out int count, prefetch);
        ulong need = cut ? FixedPointMass.NucleusMass(total, pq) : total;
        if (Nucleus(mass[..count], ids[..count], need, ws.KeysFor(count), out lastKey, out kept)) return count;
        if (cut && SecondLevel > floor)
        {
            Candidates(values, max, scale, minMass, SecondLevel, mass, ids, out count);
            if (Nucleus(mass[..count], ids[..count], need, ws.KeysFor(count), out lastKey, out kept)) return count;
        }
        Candidates(values, max, scale, minMass, floor, mass, ids, out count);
        if (!Nucleus(mass[..count], ids[..count], need, ws.KeysFor(count), out lastKey, out kept))
            throw new InvalidOperationException("unreachable: all tokens with mass hold less than the nucleus");
        return count;
    }

    /// <summary>Id of the first kept candidate (index order) whose inclusive prefix mass exceeds ⌊random · kept / 2^64⌋.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot SIMD loops: skip the unoptimised tier and on-stack replacement
    public static int Draw(ReadOnlySpan<uint> mass, ReadOnlySpan<int> ids, ulong lastKey, ulong kept, ulong random)
    {
        ulong target = FixedPointMass.Target(random, kept), acc = 0;
        for (int j = 0; j < mass.Length; j++)
        {
            ulong keep = Key(mass[j], ids[j]) <= lastKey ? ulong.MaxValue : 0; // no branch on a coin-flip condition
            acc += mass[j] & keep;
            if (acc > target) return ids[j]; // acc only grows when the candidate is kept, so the first crossing is a kept one
        }
        throw new InvalidOperationException("unreachable: draw target not below the kept mass");
    }
}
