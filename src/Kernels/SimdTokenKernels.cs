using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace DecodeAlign.Kernels;

/// <summary>
/// SIMD CPU backend (TensorPrimitives, Vector&lt;T&gt;, AVX2 where present): the default where no CUDA device exists.
/// Rows are processed one after another on the calling thread (Sample: on parallel workers for large batches on
/// machines with at least 4 logical processors); scratch buffers are reused across calls.
/// See <see cref="ITokenKernels"/> for the exactness contract.
/// </summary>
public sealed class SimdTokenKernels : ITokenKernels
{
    private readonly SimdRowWorkspace _ws = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<SimdRowWorkspace> _pool = [];
    private float[] _row = [];
    private ulong[] _mass = [];
    private float[] _vals = [];

    /// <summary>Batches with at least this many logits sample their rows in parallel (one workspace per worker) …</summary>
    private const long ParallelThreshold = 1 << 16;

    /// <summary>
    /// … on machines with at least this many logical processors (by default). With 2 (shared) cores the hand-off to pool workers and
    /// the preemption of either worker cost more than the second core saves (2026-12-01 harness, load 6–7: batches of
    /// 8 and 64 rows at 32k and 152k took 4–80% longer in parallel), so those run on the calling thread.
    /// </summary>
    private const int DefaultParallelMinProcessors = 4;

    private readonly int _parallelMinProcessors;

    /// <summary>Creates the backend.</summary>
    public SimdTokenKernels() : this(DefaultParallelMinProcessors) { }

    /// <summary>Creates the backend with another processor count for the parallel row path (tests force it on 2-core machines).</summary>
    internal SimdTokenKernels(int parallelMinProcessors) => _parallelMinProcessors = parallelMinProcessors;

    /// <inheritdoc/>
    public KernelBackendKind Kind => KernelBackendKind.Cpu;

    /// <inheritdoc/>
    public string DeviceName => $"CPU SIMD ({(Avx2.IsSupported ? "AVX2" : Vector.IsHardwareAccelerated ? "Vector" : "scalar")}, {Vector<float>.Count} floats per vector)";

    /// <inheritdoc/>
    public void Dispose() { }

    private static T[] Grow<T>(ref T[] buffer, int size)
    {
        if (buffer.Length < size) buffer = new T[size];
        return buffer;
    }

    /// <summary>Validated maximum of a row (NaN / +∞ / all −∞ rejected with the row's index).</summary>
    private static float RowMax(ReadOnlySpan<float> row, int r, string what = "logits")
    {
        float max = TensorPrimitives.Max(row); // NaN when any element is NaN
        return KernelChecks.Classify(float.IsNaN(max) ? float.NegativeInfinity : max, float.IsNaN(max), r, what);
    }

    /// <summary>Lowest index holding a value equal to <paramref name="max"/> (−0 == +0).</summary>
    private static int FirstEqual(ReadOnlySpan<float> row, float max)
    {
        int i = 0, width = Vector<float>.Count;
        var m = new Vector<float>(max);
        ref float start = ref MemoryMarshal.GetReference(row);
        for (; i + width <= row.Length; i += width)
            if (Vector.EqualsAny(Vector.LoadUnsafe(ref start, (nuint)i), m)) break;
        for (; i < row.Length; i++) if (row[i] == max) return i;
        throw new InvalidOperationException("unreachable: maximum not found in its row");
    }

    /// <inheritdoc/>
    public void ConvertHalf(ReadOnlySpan<Half> source, Span<float> destination)
    {
        KernelChecks.Length(destination.Length, source.Length, "destination");
        TensorPrimitives.ConvertToSingle(source, destination);
    }

    /// <inheritdoc/>
    public void ScaleTemperature(Span<float> logits, float temperature)
    {
        KernelChecks.Temperature(temperature);
        TensorPrimitives.Divide(logits, temperature, logits);
    }

    /// <inheritdoc/>
    public void Softmax(ReadOnlySpan<float> logits, int vocab, Span<float> probabilities)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(probabilities.Length, logits.Length, "probabilities");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            var dst = probabilities.Slice(r * vocab, vocab);
            float m = RowMax(row, r);
            TensorPrimitives.Subtract(row, m, dst);
            TensorPrimitives.Exp(dst, dst);
            TensorPrimitives.Divide(dst, TensorPrimitives.Sum(dst), dst);
        }
    }

    /// <inheritdoc/>
    public void LogSoftmax(ReadOnlySpan<float> logits, int vocab, Span<float> logProbabilities)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(logProbabilities.Length, logits.Length, "log-probabilities");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            var dst = logProbabilities.Slice(r * vocab, vocab);
            float m = RowMax(row, r);
            TensorPrimitives.Subtract(row, m, dst);
            var tmp = Grow(ref _row, vocab).AsSpan(0, vocab);
            TensorPrimitives.Exp(dst, tmp);
            TensorPrimitives.Subtract(dst, MathF.Log(TensorPrimitives.Sum(tmp)), dst);
        }
    }

    /// <inheritdoc/>
    public void Entropy(ReadOnlySpan<float> logits, int vocab, Span<float> entropy)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(entropy.Length, rows, "entropy");
        var d = Grow(ref _row, vocab).AsSpan(0, vocab);
        var e = Grow(ref _vals, vocab).AsSpan(0, vocab);
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            float m = RowMax(row, r);
            TensorPrimitives.Subtract(row, m, d);
            TensorPrimitives.Max(d, -1e30f, d); // −∞ → finite, so 0 · d stays 0 instead of NaN
            TensorPrimitives.Exp(d, e);
            double z = TensorPrimitives.Sum(e), s = TensorPrimitives.Dot(e, d);
            // H = log Z − Σ e·d / Z with d = x − max and e = exp(d).
            entropy[r] = (float)Math.Max(0.0, Math.Log(z) - s / z);
        }
    }

    /// <inheritdoc/>
    public int TopK(ReadOnlySpan<float> logits, int vocab, int k, Span<int> ids, Span<float> values)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (k <= 0) throw new ArgumentException($"k must be > 0 (got {k})");
        int kk = Math.Min(k, vocab);
        KernelChecks.Length(ids.Length, (long)rows * kk, "ids");
        KernelChecks.Length(values.Length, (long)rows * kk, "values");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            if (float.IsNaN(TensorPrimitives.Max(row))) throw new ArgumentException($"logits row {r} contains NaN");
            _ws.TopK.Select(row, kk, ids.Slice(r * kk, kk), values.Slice(r * kk, kk));
        }
        return kk;
    }

    /// <inheritdoc/>
    public void MaskTopP(Span<float> logits, int vocab, float topP)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (!(topP > 0f && topP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1] (got {topP})");
        for (int r = 0; r < rows; r++) Mask(logits.Slice(r * vocab, vocab), r, 0f, topP);
    }

    /// <inheritdoc/>
    public void MaskMinP(Span<float> logits, int vocab, float minP)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (!(minP >= 0f && minP <= 1f)) throw new ArgumentException($"min-p must be in [0, 1] (got {minP})");
        for (int r = 0; r < rows; r++) Mask(logits.Slice(r * vocab, vocab), r, minP, 1f);
    }

    private void Mask(Span<float> row, int r, float minP, float topP)
    {
        float max = RowMax(row, r);
        uint minMass = minP > 0 ? FixedPointMass.MinPMass(minP) : 0;
        int count = SimdMassRow.Kept(row, max, FixedPointMass.ScaleFor(1f), minMass, FixedPointMass.TopPQ32(topP), topP < 1f, _ws, out ulong lastKey, out _);
        // Kept tokens are all among the candidates: save their logits, fill the row with −∞, put them back.
        var mass = _ws.Mass.AsSpan(0, count);
        var ids = _ws.Candidates.AsSpan(0, count);
        var saved = SimdRowWorkspace.Grow(ref _ws.Values, count);
        int kept = 0;
        for (int j = 0; j < count; j++)
            if (SimdMassRow.Key(mass[j], ids[j]) <= lastKey) { ids[kept] = ids[j]; saved[kept++] = row[ids[j]]; }
        row.Fill(float.NegativeInfinity);
        for (int j = 0; j < kept; j++) row[ids[j]] = saved[j];
    }

    /// <inheritdoc/>
    public void ApplyPenalties(Span<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<int> history, ReadOnlySpan<int> historyOffsets)
    {
        parameters.Validate();
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.History(history, historyOffsets, rows, vocab);
        for (int r = 0; r < rows; r++)
            Penalize(logits.Slice(r * vocab, vocab), parameters, history[historyOffsets[r]..historyOffsets[r + 1]], _ws);
    }

    /// <summary>Counts each token with a sort of the (short) history, then applies the shared penalty formula once per distinct token.</summary>
    private static void Penalize(Span<float> row, SamplingParameters p, ReadOnlySpan<int> tokens, SimdRowWorkspace ws)
    {
        var sorted = SimdRowWorkspace.Grow(ref ws.Sorted, tokens.Length);
        tokens.CopyTo(sorted);
        sorted.Sort();
        for (int s = 0; s < sorted.Length;)
        {
            int e = s + 1;
            while (e < sorted.Length && sorted[e] == sorted[s]) e++;
            row[sorted[s]] = ReferenceKernels.PenalizedLogit(row[sorted[s]], e - s, 1f / p.RepetitionPenalty, p.RepetitionPenalty, p.FrequencyPenalty, p.PresencePenalty);
            s = e;
        }
    }

    /// <inheritdoc/>
    public void Sample(ReadOnlySpan<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<SampleKey> keys, Span<int> tokens,
        ReadOnlySpan<int> history = default, ReadOnlySpan<int> historyOffsets = default)
    {
        bool penalize = KernelChecks.SampleArguments(logits.Length, vocab, parameters, keys.Length, tokens.Length, history, historyOffsets, out int rows);
        float scale = parameters.Greedy ? 0f : FixedPointMass.ScaleFor(parameters.Temperature);
        uint minMass = parameters.MinP > 0f ? FixedPointMass.MinPMass(parameters.MinP) : 0;
        ulong pq = FixedPointMass.TopPQ32(parameters.TopP);
        bool topK = parameters.TopK > 0 && parameters.TopK < vocab;
        if (rows == 1 || (long)rows * vocab < ParallelThreshold || Environment.ProcessorCount < _parallelMinProcessors)
        {
            // Sequential: no closure, pinning or error array; the first bad row throws, which is the lowest one.
            for (int r = 0; r < rows; r++)
            {
                var rowHistory = penalize ? history[historyOffsets[r]..historyOffsets[r + 1]] : default;
                var next = r + 1 < rows ? logits.Slice((r + 1) * vocab, vocab) : default;
                tokens[r] = SampleRow(logits.Slice(r * vocab, vocab), r, parameters, keys[r], penalize, rowHistory, topK, scale, minMass, pq, _ws, next);
            }
            return;
        }
        SampleParallel(logits, vocab, parameters, keys, tokens, history, historyOffsets, rows, penalize, topK, scale, minMass, pq);
    }

    /// <summary>The rows of <see cref="Sample"/> on parallel workers (kept apart so the sequential path carries no closure).</summary>
    private void SampleParallel(ReadOnlySpan<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<SampleKey> keys, Span<int> tokens,
        ReadOnlySpan<int> history, ReadOnlySpan<int> historyOffsets, int rows, bool penalize, bool topK, float scale, uint minMass, ulong pq)
    {
        var errors = new ArgumentException?[rows];
        unsafe
        {
            fixed (float* pLogits = logits)
            fixed (SampleKey* pKeys = keys)
            fixed (int* pTokens = tokens, pHistory = history, pOffsets = historyOffsets)
            {
                // Spans cannot enter lambdas; the pinned addresses can, and the buffers stay pinned until Parallel.For returns.
                nint l = (nint)pLogits, k = (nint)pKeys, t = (nint)pTokens, h = (nint)pHistory, o = (nint)pOffsets;
                int historyLength = history.Length;
                void Row(int r, SimdRowWorkspace ws)
                {
                    var row = new ReadOnlySpan<float>((float*)l + (long)r * vocab, vocab);
                    ReadOnlySpan<int> rowHistory = default;
                    if (penalize)
                    {
                        var offs = new ReadOnlySpan<int>((int*)o, rows + 1);
                        rowHistory = new ReadOnlySpan<int>((int*)h, historyLength)[offs[r]..offs[r + 1]];
                    }
                    try
                    {
                        ((int*)t)[r] = SampleRow(row, r, parameters, ((SampleKey*)k)[r], penalize, rowHistory, topK, scale, minMass, pq, ws);
                    }
                    catch (ArgumentException e)
                    {
                        errors[r] = e;
                    }
                }
                Parallel.For(0, rows, () => _pool.TryTake(out var ws) ? ws : new SimdRowWorkspace(),
                    (r, _, ws) => { Row(r, ws); return ws; }, ws => _pool.Add(ws));
            }
        }
        foreach (var e in errors) if (e is not null) throw e; // the lowest bad row, as a sequential loop would report
    }

    private static int SampleRow(ReadOnlySpan<float> row, int r, SamplingParameters parameters, SampleKey key, bool penalize, ReadOnlySpan<int> history,
        bool topK, float scale, uint minMass, ulong pq, SimdRowWorkspace ws, ReadOnlySpan<float> next = default)
    {
        if (penalize)
        {
            var copy = SimdRowWorkspace.Grow(ref ws.Row, row.Length);
            row.CopyTo(copy);
            Penalize(copy, parameters, history, ws);
            row = copy;
        }
        float max = RowMax(row, r);
        if (parameters.Greedy) return FirstEqual(row, max);
        ulong random = Philox4x32.Next64(parameters.Seed, key.RowId, key.Step, 0);
        if (!topK) return DrawRow(row, max, scale, minMass, pq, parameters.TopP < 1f, random, ws, next);
        int k = parameters.TopK;
        var ids = SimdRowWorkspace.Grow(ref ws.Ids, k);
        var vals = SimdRowWorkspace.Grow(ref ws.Values, k);
        ws.TopK.Select(row, k, ids, vals);
        ids.Sort(vals); // the draw scans candidates by ascending id
        return ids[DrawRow(vals, max, scale, minMass, pq, parameters.TopP < 1f, random, ws)];
    }

    private static int DrawRow(ReadOnlySpan<float> values, float max, float scale, uint minMass, ulong pq, bool nucleus, ulong random, SimdRowWorkspace ws,
        ReadOnlySpan<float> next = default)
    {
        int count = SimdMassRow.Kept(values, max, scale, minMass, pq, nucleus, ws, out ulong lastKey, out ulong kept, next);
        return SimdMassRow.Draw(ws.Mass.AsSpan(0, count), ws.Candidates.AsSpan(0, count), lastKey, kept, random);
    }

    /// <inheritdoc/>
    public void FuseCandidates(ReadOnlySpan<float> baseScores, int k, ReadOnlySpan<float> scores, ReadOnlySpan<float> weights, FusionMode mode, Span<float> fused)
    {
        int rows = KernelChecks.Rows(baseScores.Length, k, "base scores");
        int m = weights.Length;
        KernelChecks.Length(scores.Length, (long)m * rows * k, "scores");
        KernelChecks.Length(fused.Length, baseScores.Length, "fused");
        baseScores.CopyTo(fused);
        for (int i = 0; i < m; i++)
        {
            if (float.IsNaN(TensorPrimitives.Max(scores.Slice(i * rows * k, rows * k))))
                for (int r = 0; r < rows; r++)
                    if (float.IsNaN(TensorPrimitives.Max(scores.Slice((i * rows + r) * k, k)))) throw new ArgumentException($"scores {i} row {r} contains NaN");
            for (int r = 0; r < rows; r++)
            {
                var s = scores.Slice((i * rows + r) * k, k);
                float mean = 0f;
                if (mode == FusionMode.Centered)
                {
                    double sum = 0; // sequential double sum: the same bits on every backend
                    foreach (float x in s) sum += x;
                    mean = (float)(sum / k);
                }
                var f = fused.Slice(r * k, k);
                for (int j = 0; j < k; j++) f[j] = ReferenceKernels.FusedTerm(weights[i], s[j] - mean, f[j]);
            }
        }
    }

    /// <inheritdoc/>
    public void SelectCandidates(ReadOnlySpan<float> fused, int k, float temperature, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> chosen) =>
        Sample(fused, k, new SamplingParameters { Temperature = temperature, Seed = seed }, keys, chosen);

    /// <inheritdoc/>
    public void ScatterCandidates(Span<float> logits, int vocab, ReadOnlySpan<int> candidateIds, int k, ReadOnlySpan<float> candidateScores)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(candidateIds.Length, (long)rows * k, "candidate ids");
        KernelChecks.Length(candidateScores.Length, (long)rows * k, "candidate scores");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            for (int j = 0; j < k; j++)
            {
                int id = candidateIds[r * k + j];
                if ((uint)id >= (uint)vocab) throw new ArgumentException($"candidate id {id} of row {r} is outside the vocabulary [0, {vocab})");
                row[id] = candidateScores[r * k + j];
            }
        }
    }

    /// <inheritdoc/>
    public void AcceptMetropolisHastings(ReadOnlySpan<float> logRatioTerms, int terms, ulong seed, ReadOnlySpan<SampleKey> keys, Span<bool> accepted)
    {
        int chains = KernelChecks.Rows(logRatioTerms.Length, terms, "log-ratio terms");
        KernelChecks.Length(keys.Length, chains, "keys");
        KernelChecks.Length(accepted.Length, chains, "accepted");
        for (int c = 0; c < chains; c++)
        {
            var t = logRatioTerms.Slice(c * terms, terms);
            float delta = 0f;
            for (int j = 0; j < t.Length; j++) delta += t[j];
            if (float.IsNaN(delta)) throw new ArgumentException($"log-ratio of chain {c} is NaN");
            accepted[c] = (uint)Philox4x32.Next64(seed, keys[c].RowId, keys[c].Step, 0) < FixedPointExp.AcceptThreshold(delta);
        }
    }

    /// <inheritdoc/>
    public void GroupArgmax(ReadOnlySpan<float> values, ReadOnlySpan<int> groupOffsets, Span<int> winners)
    {
        KernelChecks.Offsets(groupOffsets, values.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "argmax");
        KernelChecks.Length(winners.Length, groupOffsets.Length - 1, "winners");
        for (int g = 0; g + 1 < groupOffsets.Length; g++)
        {
            var v = values[groupOffsets[g]..groupOffsets[g + 1]];
            float max = TensorPrimitives.Max(v);
            if (float.IsNaN(max)) throw new ArgumentException($"values of group {g} contain NaN");
            winners[g] = groupOffsets[g] + FirstEqual(v, max);
        }
    }

    /// <inheritdoc/>
    public void Vote(ReadOnlySpan<int> answers, ReadOnlySpan<float> rewards, ReadOnlySpan<int> groupOffsets, float beta, Span<int> winners, Span<float> shares)
    {
        bool weighted = !rewards.IsEmpty;
        if (weighted) { KernelChecks.Beta(beta); KernelChecks.Length(rewards.Length, answers.Length, "rewards"); }
        KernelChecks.Offsets(groupOffsets, answers.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "vote");
        int groups = groupOffsets.Length - 1;
        KernelChecks.Length(winners.Length, groups, "winners");
        KernelChecks.Length(shares.Length, groups, "shares");
        float scale = weighted ? FixedPointMass.ScaleFor(beta) : 0f;
        for (int g = 0; g < groups; g++)
        {
            int lo = groupOffsets[g], n = groupOffsets[g + 1] - lo;
            float max = weighted ? RowMax(rewards.Slice(lo, n), g, "rewards") : 0f;
            // Sort (answer, mass) pairs by answer, then sum runs: ascending answers make "first strictly larger" = lowest id on ties.
            var a = new int[n];
            var w = new ulong[n];
            ulong total = 0;
            for (int i = 0; i < n; i++)
            {
                a[i] = answers[lo + i];
                w[i] = weighted ? FixedPointExp.Weight(rewards[lo + i], max, scale) : 1UL;
                total += w[i];
            }
            Array.Sort(a, w);
            int win = -1; ulong best = 0, none = 0;
            for (int s = 0; s < n;)
            {
                int e = s; ulong mass = 0;
                while (e < n && a[e] == a[s]) mass += w[e++];
                if (a[s] == -1) none = mass;
                else if (win == -1 || mass > best) { win = a[s]; best = mass; }
                s = e;
            }
            winners[g] = win;
            shares[g] = (float)((double)(win == -1 ? none : best) / total);
        }
    }

    /// <inheritdoc/>
    public void Resample(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, ResamplingScheme scheme, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> ancestors)
    {
        KernelChecks.Offsets(groupOffsets, weights.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "resampling");
        int groups = groupOffsets.Length - 1;
        KernelChecks.Length(keys.Length, groups, "keys");
        KernelChecks.Length(ancestors.Length, weights.Length, "ancestors");
        for (int g = 0; g < groups; g++)
        {
            int lo = groupOffsets[g], n = groupOffsets[g + 1] - lo;
            KernelChecks.Weights(weights.Slice(lo, n), g);
            var cum = Grow(ref _mass, n).AsSpan(0, n);
            ulong total = 0;
            for (int i = 0; i < n; i++) { total += KernelChecks.Quantize(weights[lo + i]); cum[i] = total; }
            for (int j = 0; j < n; j++)
            {
                ulong position = ReferenceKernels.Position(scheme, seed, keys[g], j, n, total);
                // Smallest i with cum[i] > position, by binary search over the non-decreasing prefix sums.
                int a = 0, b = n - 1;
                while (a < b) { int mid = (a + b) >> 1; if (cum[mid] > position) b = mid; else a = mid + 1; }
                ancestors[lo + j] = lo + a;
            }
        }
    }

    /// <inheritdoc/>
    public void EffectiveSampleSize(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, Span<float> ess)
    {
        KernelChecks.Offsets(groupOffsets, weights.Length, "group");
        KernelChecks.Length(ess.Length, groupOffsets.Length - 1, "ess");
        for (int g = 0; g + 1 < groupOffsets.Length; g++)
        {
            double s = TensorPrimitives.SumOfSquares(weights[groupOffsets[g]..groupOffsets[g + 1]]);
            ess[g] = s > 0 ? (float)(1.0 / s) : 0f;
        }
    }
}
