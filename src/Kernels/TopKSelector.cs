using System.Numerics;
using System.Runtime.InteropServices;

namespace DecodeAlign.Kernels;

/// <summary>
/// CPU top-k of one row in O(V + m log k): a bounded min-heap of the best k (value desc, id asc) seen so far, with a
/// SIMD pre-filter that skips whole vectors not exceeding the heap's worst value. On random rows only
/// about k·ln(V/k) elements ever reach the heap, so k = 1024 over 256k costs little more than one read of the row.
/// Strict "&gt;" against the worst kept value keeps the lowest id among equal values, since ids arrive in ascending order.
/// </summary>
internal sealed class TopKSelector
{
    private float[] _values = [];
    private int[] _ids = [];

    /// <summary>Writes the row's k (&lt;= row length) best entries sorted by (value desc, id asc); the row must hold no NaN.</summary>
    public void Select(ReadOnlySpan<float> row, int k, Span<int> ids, Span<float> values)
    {
        if (_values.Length < k) { _values = new float[k]; _ids = new int[k]; }
        var hv = _values.AsSpan(0, k);
        var hi = _ids.AsSpan(0, k);
        for (int i = 0; i < k; i++) { hv[i] = row[i]; hi[i] = i; }
        for (int i = k / 2 - 1; i >= 0; i--) SiftDown(hv, hi, i);
        int j = k, width = Vector<float>.Count;
        ref float start = ref MemoryMarshal.GetReference(row);
        while (j < row.Length)
        {
            if (j + width <= row.Length)
            {
                var v = Vector.LoadUnsafe(ref start, (nuint)j);
                if (!Vector.GreaterThanAny(v, new Vector<float>(hv[0]))) { j += width; continue; }
                for (int end = j + width; j < end; j++) Offer(hv, hi, row[j], j);
                continue;
            }
            Offer(hv, hi, row[j], j);
            j++;
        }
        for (int i = 0; i < k; i++) { ids[i] = hi[i]; values[i] = hv[i]; }
        MemoryExtensions.Sort(values.Slice(0, k), ids.Slice(0, k), BetterFirst.Instance);
        FixTies(row, ids.Slice(0, k), values.Slice(0, k));
    }

    private static void Offer(Span<float> hv, Span<int> hi, float x, int id)
    {
        if (!(x > hv[0])) return;
        hv[0] = x; hi[0] = id;
        SiftDown(hv, hi, 0);
    }

    /// <summary>True when (va, ia) ranks below (vb, ib) in (value desc, id asc) order.</summary>
    private static bool Worse(float va, int ia, float vb, int ib) => va < vb || (va == vb && ia > ib);

    private static void SiftDown(Span<float> hv, Span<int> hi, int i)
    {
        int n = hv.Length;
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < n && Worse(hv[l], hi[l], hv[m], hi[m])) m = l;
            if (r < n && Worse(hv[r], hi[r], hv[m], hi[m])) m = r;
            if (m == i) return;
            (hv[i], hv[m]) = (hv[m], hv[i]);
            (hi[i], hi[m]) = (hi[m], hi[i]);
            i = m;
        }
    }

    /// <summary>The key sort orders by value only (−0 == +0); runs of equal values are then ordered by id.</summary>
    private static void FixTies(ReadOnlySpan<float> row, Span<int> ids, Span<float> values)
    {
        for (int s = 0; s < ids.Length;)
        {
            int e = s + 1;
            while (e < ids.Length && values[e] == values[s]) e++;
            if (e - s > 1)
            {
                ids.Slice(s, e - s).Sort();
                for (int t = s; t < e; t++) values[t] = row[ids[t]]; // −0 and +0 compare equal: keep each id's own value

            }
            s = e;
        }
    }

    private sealed class BetterFirst : IComparer<float>
    {
        public static readonly BetterFirst Instance = new();
        public int Compare(float a, float b) => a > b ? -1 : a < b ? 1 : 0;
    }
}
