using ILGPU;
using ILGPU.Algorithms;

namespace DecodeAlign.Kernels;

/// <summary>
/// Device code of <see cref="IlgpuTokenKernels"/>. Row kernels run one group per row; thread t owns the contiguous
/// chunk [t·⌈V/G⌉, (t+1)·⌈V/G⌉) so that id-ordered decisions (tie ranks, the draw's prefix sums) are exclusive scans
/// over per-thread totals. Group reductions go through shared memory and are finished sequentially by thread 0:
/// integer results are exact in any order, float maxima are order-independent, and only float sums (softmax
/// denominators) differ from the CPU in the last bits. Thresholds (top-k key, nucleus mass) are found by binary
/// search over the integer domain with one counting pass per step, so the outcome equals the reference definition.
/// Every loop that contains a barrier has a trip count that is uniform across the group.
/// </summary>
internal static class IlgpuKernelCode
{
    /// <summary>Shared-memory capacity per reduction; the host never launches larger groups.</summary>
    public const int MaxGroup = 256;

    // Row status codes reported to the host, which turns them into KernelChecks messages.
    public const int StatusOk = 0, StatusNaN = 1, StatusPositiveInfinity = 2, StatusAllMasked = 3;

    private static int ChunkStart(int n) => Math.Min(n, Group.IdxX * ((n + Group.DimX - 1) / Group.DimX));

    private static int ChunkEnd(int n) => Math.Min(n, (Group.IdxX + 1) * ((n + Group.DimX - 1) / Group.DimX));

    private static ulong SumU(ulong v, ArrayView<ulong> sh)
    {
        sh[Group.IdxX] = v;
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            ulong s = 0;
            for (int i = 0; i < Group.DimX; i++) s += sh[i];
            sh[0] = s;
        }
        Group.Barrier();
        ulong r = sh[0];
        Group.Barrier();
        return r;
    }

    private static ulong ExclusiveScanU(ulong v, ArrayView<ulong> sh)
    {
        sh[Group.IdxX] = v;
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            ulong s = 0;
            for (int i = 0; i < Group.DimX; i++) { ulong x = sh[i]; sh[i] = s; s += x; }
        }
        Group.Barrier();
        ulong r = sh[Group.IdxX];
        Group.Barrier();
        return r;
    }

    private static int MinI(int v, ArrayView<ulong> sh)
    {
        sh[Group.IdxX] = (ulong)(uint)v;
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            ulong m = sh[0];
            for (int i = 1; i < Group.DimX; i++) if (sh[i] < m) m = sh[i];
            sh[0] = m;
        }
        Group.Barrier();
        int r = (int)(uint)sh[0];
        Group.Barrier();
        return r;
    }

    private static float MaxF(float v, ArrayView<float> sh)
    {
        sh[Group.IdxX] = v;
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            float m = sh[0];
            for (int i = 1; i < Group.DimX; i++) if (sh[i] > m) m = sh[i];
            sh[0] = m;
        }
        Group.Barrier();
        float r = sh[0];
        Group.Barrier();
        return r;
    }

    private static double SumD(double v, ArrayView<double> sh)
    {
        sh[Group.IdxX] = v;
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            double s = 0;
            for (int i = 0; i < Group.DimX; i++) s += sh[i];
            sh[0] = s;
        }
        Group.Barrier();
        double r = sh[0];
        Group.Barrier();
        return r;
    }

    /// <summary>Order-preserving unsigned key of a non-NaN float; −0 is folded onto +0 so both compare equal, as floats do.</summary>
    public static uint KeyOf(float x)
    {
        uint bits = Interop.FloatAsInt(x + 0f);
        return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    }

    /// <summary>Row maximum over non-NaN entries.</summary>
    private static float RowMax(ArrayView<float> x, long b, int lo, int hi, ArrayView<float> shF)
    {
        float m = float.NegativeInfinity;
        for (int i = lo; i < hi; i++) { float v = x[b + i]; if (v > m) m = v; }
        return MaxF(m, shF);
    }

    /// <summary>Row status from its maximum and NaN count (non-zero: the row is rejected).</summary>
    private static int RowStatus(ArrayView<float> x, long b, int lo, int hi, float max, ArrayView<ulong> shU)
    {
        ulong nan = 0;
        for (int i = lo; i < hi; i++) if (float.IsNaN(x[b + i])) nan = 1;
        if (SumU(nan, shU) != 0) return StatusNaN;
        if (max == float.PositiveInfinity) return StatusPositiveInfinity;
        if (max == float.NegativeInfinity) return StatusAllMasked;
        return StatusOk;
    }

    /// <summary>Largest key K with count(key ≥ K) ≥ k: the k-th best key of the row, by binary search over 32 bits.</summary>
    private static uint KeyThreshold(ArrayView<float> x, long b, int lo, int hi, int k, ArrayView<ulong> shU)
    {
        ulong a = 0, z = uint.MaxValue;
        while (a < z)
        {
            ulong mid = a + (z - a + 1) / 2;
            ulong c = 0;
            for (int i = lo; i < hi; i++) if (KeyOf(x[b + i]) >= mid) c++;
            if (SumU(c, shU) >= (ulong)k) a = mid; else z = mid - 1;
        }
        return (uint)a;
    }

    /// <summary>One group per row: the top-k (value desc, id asc) into ids/values [rows × k], via a key threshold, compaction and ranking.</summary>
    public static void TopK(ArrayView<float> x, ArrayView<int> ids, ArrayView<float> values, ArrayView<int> scratchIds, ArrayView<int> status, int vocab, int k)
    {
        var shU = SharedMemory.Allocate<ulong>(MaxGroup);
        int row = Grid.IdxX, lo = ChunkStart(vocab), hi = ChunkEnd(vocab);
        long b = (long)row * vocab, o = (long)row * k;
        ulong nan = 0;
        for (int i = lo; i < hi; i++) if (float.IsNaN(x[b + i])) nan = 1;
        if (SumU(nan, shU) != 0)
        {
            if (Group.IdxX == 0) status[row] = StatusNaN;
            return;
        }
        if (Group.IdxX == 0) status[row] = StatusOk;
        uint kStar = KeyThreshold(x, b, lo, hi, k, shU);
        ulong above = 0, ties = 0;
        for (int i = lo; i < hi; i++)
        {
            uint key = KeyOf(x[b + i]);
            if (key > kStar) above++;
            else if (key == kStar) ties++;
        }
        ulong need = (ulong)k - SumU(above, shU);
        ulong tieRank = ExclusiveScanU(ties, shU);
        ulong mine = 0, seen = 0;
        for (int i = lo; i < hi; i++)
        {
            uint key = KeyOf(x[b + i]);
            if (key > kStar || (key == kStar && tieRank + seen++ < need)) mine++;
        }
        ulong slot = ExclusiveScanU(mine, shU);
        seen = 0;
        for (int i = lo; i < hi; i++)
        {
            uint key = KeyOf(x[b + i]);
            if (key > kStar || (key == kStar && tieRank + seen++ < need)) scratchIds[o + (long)slot++] = i;
        }
        Group.Barrier();
        // Rank of each selected entry = number of selected entries that come before it in (value desc, id asc).
        for (int j = Group.IdxX; j < k; j += Group.DimX)
        {
            int id = scratchIds[o + j];
            float v = x[b + id];
            int rank = 0;
            for (int q = 0; q < k; q++)
            {
                int other = scratchIds[o + q];
                float w = x[b + other];
                if (w > v || (w == v && other < id)) rank++;
            }
            ids[o + rank] = id;
            values[o + rank] = v;
        }
    }

    /// <summary>
    /// One group per row: penalties already applied, then (greedy argmax) or top-k → masses → min-p → nucleus →
    /// Philox draw, or, with MaskOnly, −∞ written over every dropped token. Mirrors <see cref="ReferenceKernels"/>.
    /// </summary>
    public static void SampleRows(ArrayView<float> x, ArrayView<uint> w, ArrayView<uint> table, ArrayView<long> rowIds, ArrayView<int> steps, ArrayView<int> tokens, ArrayView<int> status, IlgpuRowArgs a)
    {
        var shU = SharedMemory.Allocate<ulong>(MaxGroup);
        var shF = SharedMemory.Allocate<float>(MaxGroup);
        int row = Grid.IdxX, v = a.Vocab, lo = ChunkStart(v), hi = ChunkEnd(v);
        long b = (long)row * v;
        float max = RowMax(x, b, lo, hi, shF);
        int st = RowStatus(x, b, lo, hi, max, shU);
        if (Group.IdxX == 0) { status[row] = st; tokens[row] = -1; }
        if (st != StatusOk) return;
        if (a.Greedy != 0)
        {
            int first = int.MaxValue;
            for (int i = lo; i < hi; i++) if (x[b + i] == max) { first = i; break; }
            first = MinI(first, shU);
            if (Group.IdxX == 0) tokens[row] = first;
            return;
        }

        bool useTopK = a.TopK > 0 && a.TopK < v;
        uint kStar = 0;
        ulong kNeed = 0, kRank = 0;
        if (useTopK)
        {
            kStar = KeyThreshold(x, b, lo, hi, a.TopK, shU);
            ulong above = 0, ties = 0;
            for (int i = lo; i < hi; i++)
            {
                uint key = KeyOf(x[b + i]);
                if (key > kStar) above++;
                else if (key == kStar) ties++;
            }
            kNeed = (ulong)a.TopK - SumU(above, shU);
            kRank = ExclusiveScanU(ties, shU);
        }

        ulong sum = 0, seen = 0;
        for (int i = lo; i < hi; i++)
        {
            float y = x[b + i];
            bool keep = true;
            if (useTopK)
            {
                uint key = KeyOf(y);
                keep = key > kStar || (key == kStar && kRank + seen++ < kNeed);
            }
            uint m = 0;
            if (keep)
            {
                int q = FixedPointMass.Exponent(y, max, a.Scale);
                m = FixedPointMass.FromEntry(q, table[q & FixedPointMass.FractionMask]);
            }
            if (m < a.MinMass) m = 0;
            w[b + i] = m;
            sum += m;
        }
        ulong total = SumU(sum, shU);

        ulong need = FixedPointMass.NucleusMass(total, a.TopPQ32);
        bool nucleus = a.UseTopP != 0 && need < total;
        ulong wStar = 0, tieNeed = 0, tieRank = 0, kept = total;
        if (nucleus)
        {
            ulong p = 1, q = FixedPointMass.One; // largest mass level L with mass(W ≥ L) ≥ need
            while (p < q)
            {
                ulong mid = p + (q - p + 1) / 2, s = 0;
                for (int i = lo; i < hi; i++) { ulong m = w[b + i]; if (m >= mid) s += m; }
                if (SumU(s, shU) >= need) p = mid; else q = mid - 1;
            }
            wStar = p;
            ulong above = 0, ties = 0;
            for (int i = lo; i < hi; i++)
            {
                ulong m = w[b + i];
                if (m > wStar) above += m;
                else if (m == wStar) ties++;
            }
            above = SumU(above, shU);
            tieNeed = (need - above + wStar - 1) / wStar;
            tieRank = ExclusiveScanU(ties, shU);
            kept = above + tieNeed * wStar;
        }

        // Kept mass per thread in id order; the thread whose range holds the target finds the token.
        ulong mine = 0;
        seen = 0;
        for (int i = lo; i < hi; i++)
        {
            ulong m = w[b + i];
            if (nucleus && !(m > wStar || (m == wStar && tieRank + seen++ < tieNeed))) m = 0;
            mine += m;
            if (a.MaskOnly != 0 && m == 0) x[b + i] = float.NegativeInfinity;
        }
        if (a.MaskOnly != 0) return;
        ulong start = ExclusiveScanU(mine, shU);
        ulong target = FixedPointMass.Target(Philox4x32.Next64(a.Seed, rowIds[row], steps[row], 0), kept);
        if (target >= start && target < start + mine)
        {
            ulong acc = start;
            seen = 0;
            for (int i = lo; i < hi; i++)
            {
                ulong m = w[b + i];
                if (nucleus && !(m > wStar || (m == wStar && tieRank + seen++ < tieNeed))) m = 0;
                acc += m;
                if (acc > target) { tokens[row] = i; break; }
            }
        }
    }

    /// <summary>One group per row: repetition/frequency/presence penalties, applied once per distinct history token.</summary>
    public static void Penalize(ArrayView<float> x, ArrayView<int> history, ArrayView<int> offsets, IlgpuPenaltyArgs a)
    {
        int row = Grid.IdxX, from = offsets[row], to = offsets[row + 1];
        long b = (long)row * a.Vocab;
        for (int j = from + Group.IdxX; j < to; j += Group.DimX)
        {
            int token = history[j];
            bool first = true;
            for (int i = from; i < j; i++) if (history[i] == token) { first = false; break; }
            if (!first) continue;
            int count = 0;
            for (int i = j; i < to; i++) if (history[i] == token) count++;
            float y = x[b + token];
            y = y > 0f ? y * a.InverseRepetition : y * a.Repetition;
            y = (float)((double)y - (double)a.Frequency * count);
            x[b + token] = y - a.Presence;
        }
    }

    /// <summary>One group per row: softmax (mode 0), log-softmax (1) or entropy (2) with a validated maximum.</summary>
    public static void Normalize(ArrayView<float> x, ArrayView<float> output, ArrayView<int> status, int vocab, int mode)
    {
        var shU = SharedMemory.Allocate<ulong>(MaxGroup);
        var shF = SharedMemory.Allocate<float>(MaxGroup);
        var shD = SharedMemory.Allocate<double>(MaxGroup);
        int row = Grid.IdxX, lo = ChunkStart(vocab), hi = ChunkEnd(vocab);
        long b = (long)row * vocab;
        float max = RowMax(x, b, lo, hi, shF);
        int st = RowStatus(x, b, lo, hi, max, shU);
        if (Group.IdxX == 0) status[row] = st;
        if (st != StatusOk) return;
        double z = 0, s = 0;
        for (int i = lo; i < hi; i++)
        {
            float d = x[b + i] - max;
            float e = XMath.Exp(d);
            z += e;
            if (e > 0f) s += (double)e * d;
        }
        z = SumD(z, shD);
        if (mode == 2)
        {
            s = SumD(s, shD);
            if (Group.IdxX == 0) output[row] = (float)XMath.Max(0.0, XMath.Log(z) - s / z);
            return;
        }
        float lz = (float)XMath.Log(z), inv = (float)(1.0 / z);
        for (int i = lo; i < hi; i++)
        {
            float d = x[b + i] - max;
            output[b + i] = mode == 0 ? XMath.Exp(d) * inv : d - lz;
        }
    }

    /// <summary>Elementwise x / τ.</summary>
    public static void Scale(Index1D i, ArrayView<float> x, float temperature) => x[i] = x[i] / temperature;

    /// <summary>One thread per row: fused = base + Σ_i w_i (s_i − mean_i) (mean_i = 0 when not centred).</summary>
    public static void Fuse(Index1D index, ArrayView<float> baseScores, ArrayView<float> scores, ArrayView<float> weights, ArrayView<float> fused, int rows, int k, int centered)
    {
        int row = index;
        long b = (long)row * k;
        for (int j = 0; j < k; j++) fused[b + j] = baseScores[b + j];
        for (int t = 0; t < weights.IntLength; t++)
        {
            long s0 = ((long)t * rows + row) * k;
            float mean = 0f;
            if (centered != 0)
            {
                double sum = 0;
                for (int j = 0; j < k; j++) sum += scores[s0 + j];
                mean = (float)(sum / k);
            }
            for (int j = 0; j < k; j++) fused[b + j] = (float)((double)weights[t] * (scores[s0 + j] - mean) + fused[b + j]);
        }
    }

    /// <summary>One thread per candidate: logits[row, id] = score.</summary>
    public static void Scatter(Index1D e, ArrayView<float> logits, ArrayView<int> ids, ArrayView<float> scores, int vocab, int k)
    {
        int row = e / k;
        logits[(long)row * vocab + ids[e]] = scores[e];
    }

    /// <summary>One thread per chain: accept iff the low 32 Philox bits are below ⌊2^32 exp(clamp(Δ))⌋.</summary>
    public static void Accept(Index1D index, ArrayView<float> terms, ArrayView<long> rowIds, ArrayView<int> steps, ArrayView<byte> accepted, int count, ulong seed)
    {
        int c = index;
        float delta = 0f;
        for (int t = 0; t < count; t++) delta += terms[(long)c * count + t];
        uint u = (uint)Philox4x32.Next64(seed, rowIds[c], steps[c], 0);
        accepted[c] = (byte)(u < FixedPointExp.AcceptThreshold(delta) ? 1 : 0);
    }

    /// <summary>One thread per group: first index of the maximum; status 1 when the group holds NaN.</summary>
    public static void Argmax(Index1D g, ArrayView<float> values, ArrayView<int> offsets, ArrayView<int> winners, ArrayView<int> status)
    {
        int best = offsets[g];
        int st = StatusOk;
        for (int i = offsets[g]; i < offsets[g + 1]; i++)
        {
            float v = values[i];
            if (float.IsNaN(v)) st = StatusNaN;
            else if (v > values[best]) best = i;
        }
        winners[g] = best;
        status[g] = st;
    }

    /// <summary>
    /// One thread per group: integer vote masses per distinct answer (softmax(r/β) in fixed point, or counts), the
    /// winner being the largest mass among answers ≠ −1 with the lowest answer id on ties; −1 only when alone.
    /// </summary>
    public static void Vote(Index1D g, ArrayView<int> answers, ArrayView<float> rewards, ArrayView<int> offsets, ArrayView<int> winners, ArrayView<float> shares, ArrayView<int> status, int weighted, float scale)
    {
        int from = offsets[g], to = offsets[g + 1];
        float max = float.NegativeInfinity;
        int st = StatusOk;
        if (weighted != 0)
        {
            for (int i = from; i < to; i++)
            {
                float r = rewards[i];
                if (float.IsNaN(r)) st = StatusNaN;
                else if (r > max) max = r;
            }
            if (st == StatusOk && max == float.PositiveInfinity) st = StatusPositiveInfinity;
            if (st == StatusOk && max == float.NegativeInfinity) st = StatusAllMasked;
        }
        status[g] = st;
        if (st != StatusOk) return;
        ulong total = 0, best = 0, none = 0;
        int win = -1;
        for (int i = from; i < to; i++)
        {
            ulong wi = weighted != 0 ? FixedPointExp.Weight(rewards[i], max, scale) : 1UL;
            total += wi;
            int answer = answers[i];
            if (answer == -1) { none += wi; continue; }
            bool first = true;
            for (int j = from; j < i; j++) if (answers[j] == answer) { first = false; break; }
            if (!first) continue;
            ulong mass = wi;
            for (int j = i + 1; j < to; j++)
                if (answers[j] == answer) mass += weighted != 0 ? FixedPointExp.Weight(rewards[j], max, scale) : 1UL;
            if (win == -1 || mass > best || (mass == best && answer < win)) { win = answer; best = mass; }
        }
        winners[g] = win;
        shares[g] = (float)((double)(win == -1 ? none : best) / total);
    }

    /// <summary>
    /// One thread per group: ancestor indices from 2^31 fixed-point weights and integer positions (systematic when
    /// <paramref name="systematic"/> is 1, multinomial otherwise), by a forward scan of the cumulative weights.
    /// </summary>
    public static void Resample(Index1D g, ArrayView<float> weights, ArrayView<int> offsets, ArrayView<long> rowIds, ArrayView<int> steps, ArrayView<int> ancestors, int systematic, ulong seed)
    {
        int from = offsets[g], n = offsets[g + 1] - from;
        ulong total = 0;
        for (int i = 0; i < n; i++) total += (ulong)(weights[from + i] * 2147483648.0);
        ulong offset = ((ulong)(uint)Philox4x32.Next64(seed, rowIds[g], steps[g], 0) * total) >> 32;
        for (int j = 0; j < n; j++)
        {
            ulong position = systematic != 0
                ? (offset + (ulong)j * total) / (ulong)n
                : ((ulong)(uint)Philox4x32.Next64(seed, rowIds[g], steps[g], (uint)j) * total) >> 32;
            ulong cum = 0;
            int i = 0;
            for (; i < n; i++)
            {
                cum += (ulong)(weights[from + i] * 2147483648.0);
                if (cum > position) break;
            }
            ancestors[from + j] = from + i;
        }
    }

    /// <summary>One thread per group: 1 / Σ w².</summary>
    public static void Ess(Index1D g, ArrayView<float> weights, ArrayView<int> offsets, ArrayView<float> ess)
    {
        double s = 0;
        for (int i = offsets[g]; i < offsets[g + 1]; i++) s += (double)weights[i] * weights[i];
        ess[g] = s > 0 ? (float)(1.0 / s) : 0f;
    }
}
