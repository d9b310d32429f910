using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DecodeAlign.Kernels;

/// <summary>
/// CPU implementation of the <see cref="FixedPointMass"/> row pipeline in one pass over the logits plus work on a short
/// candidate list: the pass computes every mass (AVX2 gather from the table where available, the same integer
/// operations lane by lane otherwise), sums them, and left-packs the (mass, id) of the tokens at or above a level that
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

    /// <summary>Candidates room beyond the row length: the packed stores always write a whole vector.</summary>
    public const int Slack = 8;

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
    public static unsafe ulong Candidates(ReadOnlySpan<float> values, float max, float scale, uint minMass, uint level,
        Span<uint> mass, Span<int> ids, out int count)
    {
        if (mass.Length < values.Length + Slack || ids.Length < values.Length + Slack) throw new ArgumentException("candidate buffers too short");
        int i = 0, n = 0;
        ulong total = 0;
        fixed (uint* table = FixedPointMass.Table)
        fixed (int* pack = PackTable)
        fixed (float* src = values)
        fixed (uint* dm = mass)
        fixed (int* di = ids)
        {
            if (Avx2.IsSupported && values.Length >= 8)
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
                var idV = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                var eight = Vector256.Create(8);
                var sum = Vector256<ulong>.Zero;
                for (; i <= values.Length - 8; i += 8)
                {
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
                total = Vector256.Sum(sum);
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

    /// <summary>Sort key ordering (mass desc, id asc) as one ascending ulong.</summary>
    public static ulong Key(uint mass, int id) => ((ulong)~mass << 32) | (uint)id;

    private static uint MassOfKey(ulong key) => ~(uint)(key >> 32);

    /// <summary>
    /// The nucleus among candidates that form a prefix of the (mass desc, id asc) order: the candidates, in that order,
    /// until their sum reaches <paramref name="need"/>. Returns false when all candidates together stay below it;
    /// otherwise the last kept key (a token is kept iff its <see cref="Key"/> ≤ it) and the kept mass. A mass-weighted
    /// quickselect over packed keys (expected linear time) finds the last kept key without sorting.
    /// </summary>
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
            for (int j = lo; j < hi; j++)
            {
                ulong key = keys[j];
                if (key < pivot) { keys[j] = keys[i]; keys[i++] = key; sum += MassOfKey(key); }
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
    /// mass. Collects at <see cref="FirstLevel"/> first when cutting, and again at the lowest level if that was too high.
    /// </summary>
    public static int Kept(ReadOnlySpan<float> values, float max, float scale, uint minMass, ulong pq, bool cut, SimdRowWorkspace ws,
        out ulong lastKey, out ulong kept)
    {
        uint floor = Math.Max(minMass, 1u);
        uint level = cut ? Math.Max(FirstLevel, floor) : floor;
        var mass = SimdRowWorkspace.Grow(ref ws.Mass, values.Length + Slack);
        var ids = SimdRowWorkspace.Grow(ref ws.Candidates, values.Length + Slack);
        ulong total = Candidates(values, max, scale, minMass, level, mass, ids, out int count);
        ulong need = cut ? FixedPointMass.NucleusMass(total, pq) : total;
        if (Nucleus(mass[..count], ids[..count], need, ws.KeysFor(count), out lastKey, out kept)) return count;
        Candidates(values, max, scale, minMass, floor, mass, ids, out count);
        if (!Nucleus(mass[..count], ids[..count], need, ws.KeysFor(count), out lastKey, out kept))
            throw new InvalidOperationException("unreachable: all tokens with mass hold less than the nucleus");
        return count;
    }

    /// <summary>Id of the first kept candidate (index order) whose inclusive prefix mass exceeds ⌊random · kept / 2^64⌋.</summary>
    public static int Draw(ReadOnlySpan<uint> mass, ReadOnlySpan<int> ids, ulong lastKey, ulong kept, ulong random)
    {
        ulong target = FixedPointMass.Target(random, kept), acc = 0;
        for (int j = 0; j < mass.Length; j++)
        {
            if (Key(mass[j], ids[j]) > lastKey) continue;
            acc += mass[j];
            if (acc > target) return ids[j];
        }
        throw new InvalidOperationException("unreachable: draw target not below the kept mass");
    }
}
