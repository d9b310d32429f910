namespace DecodeAlign.Kernels;

/// <summary>
/// Plain scalar C# definition of every operation (naive algorithms: full sorts, double accumulators), used by the
/// parity tests as the ground truth for both backends. Not optimised and not part of the public surface.
/// </summary>
internal sealed class ReferenceKernels : ITokenKernels
{
    public KernelBackendKind Kind => KernelBackendKind.Cpu;

    public string DeviceName => "scalar reference";

    public void Dispose() { }

    public void ConvertHalf(ReadOnlySpan<Half> source, Span<float> destination)
    {
        KernelChecks.Length(destination.Length, source.Length, "destination");
        for (int i = 0; i < source.Length; i++) destination[i] = (float)source[i];
    }

    public void ScaleTemperature(Span<float> logits, float temperature)
    {
        KernelChecks.Temperature(temperature);
        for (int i = 0; i < logits.Length; i++) logits[i] /= temperature;
    }

    public void Softmax(ReadOnlySpan<float> logits, int vocab, Span<float> probabilities)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(probabilities.Length, logits.Length, "probabilities");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            double m = KernelChecks.RowMax(row, r), z = 0;
            foreach (float x in row) z += Math.Exp(x - m);
            for (int i = 0; i < vocab; i++) probabilities[r * vocab + i] = (float)(Math.Exp(row[i] - m) / z);
        }
    }

    public void LogSoftmax(ReadOnlySpan<float> logits, int vocab, Span<float> logProbabilities)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(logProbabilities.Length, logits.Length, "log-probabilities");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            double m = KernelChecks.RowMax(row, r), z = 0;
            foreach (float x in row) z += Math.Exp(x - m);
            double lz = Math.Log(z);
            for (int i = 0; i < vocab; i++) logProbabilities[r * vocab + i] = (float)(row[i] - m - lz);
        }
    }

    public void Entropy(ReadOnlySpan<float> logits, int vocab, Span<float> entropy)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(entropy.Length, rows, "entropy");
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            double m = KernelChecks.RowMax(row, r), z = 0, h = 0;
            foreach (float x in row) z += Math.Exp(x - m);
            foreach (float x in row)
            {
                if (float.IsNegativeInfinity(x)) continue;
                double p = Math.Exp(x - m) / z;
                if (p > 0) h -= p * Math.Log(p);
            }
            entropy[r] = (float)h;
        }
    }

    /// <summary>Ids of a row sorted by (value desc, id asc).</summary>
    private static int[] Order(ReadOnlySpan<float> row)
    {
        var ids = new int[row.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = i;
        var copy = row.ToArray();
        Array.Sort(ids, (a, b) => copy[a] != copy[b] ? copy[b].CompareTo(copy[a]) : a.CompareTo(b));
        return ids;
    }

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
            foreach (float x in row) if (float.IsNaN(x)) throw new ArgumentException($"logits row {r} contains NaN");
            var order = Order(row);
            for (int j = 0; j < kk; j++) { ids[r * kk + j] = order[j]; values[r * kk + j] = row[order[j]]; }
        }
        return kk;
    }

    /// <summary>Masses of a row at a temperature after the optional top-k / min-p / top-p filters (reference definition).</summary>
    internal static ulong[] Masses(ReadOnlySpan<float> row, float temperature, int topK, float minP, float topP, float max)
    {
        int v = row.Length;
        var keep = new bool[v];
        if (topK > 0 && topK < v) { var order = Order(row); for (int j = 0; j < topK; j++) keep[order[j]] = true; }
        else Array.Fill(keep, true);
        float scale = FixedPointMass.ScaleFor(temperature);
        uint minMass = minP > 0 ? FixedPointMass.MinPMass(minP) : 0;
        var w = new ulong[v];
        for (int i = 0; i < v; i++)
        {
            if (!keep[i]) continue;
            w[i] = FixedPointMass.Weight(row[i], max, scale);
            if (w[i] < minMass) w[i] = 0;
        }
        if (topP < 1f)
        {
            ulong total = 0;
            foreach (ulong x in w) total += x;
            ulong need = FixedPointMass.NucleusMass(total, FixedPointMass.TopPQ32(topP));
            var ids = Enumerable.Range(0, v).Where(i => w[i] > 0).ToArray();
            Array.Sort(ids, (a, b) => w[a] != w[b] ? w[b].CompareTo(w[a]) : a.CompareTo(b));
            ulong acc = 0;
            var kept = new bool[v];
            foreach (int i in ids) { if (acc >= need) break; acc += w[i]; kept[i] = true; }
            for (int i = 0; i < v; i++) if (!kept[i]) w[i] = 0;
        }
        return w;
    }

    public void MaskTopP(Span<float> logits, int vocab, float topP)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (!(topP > 0f && topP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1] (got {topP})");
        for (int r = 0; r < rows; r++) Mask(logits.Slice(r * vocab, vocab), r, 0f, topP);
    }

    public void MaskMinP(Span<float> logits, int vocab, float minP)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (!(minP >= 0f && minP <= 1f)) throw new ArgumentException($"min-p must be in [0, 1] (got {minP})");
        for (int r = 0; r < rows; r++) Mask(logits.Slice(r * vocab, vocab), r, minP, 1f);
    }

    private static void Mask(Span<float> row, int r, float minP, float topP)
    {
        float max = KernelChecks.RowMax(row, r);
        var w = Masses(row, 1f, 0, minP, topP, max);
        for (int i = 0; i < row.Length; i++) if (w[i] == 0) row[i] = float.NegativeInfinity;
    }

    public void ApplyPenalties(Span<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<int> history, ReadOnlySpan<int> historyOffsets)
    {
        parameters.Validate();
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.History(history, historyOffsets, rows, vocab);
        for (int r = 0; r < rows; r++)
            Penalize(logits.Slice(r * vocab, vocab), parameters, history[historyOffsets[r]..historyOffsets[r + 1]]);
    }

    internal static void Penalize(Span<float> row, SamplingParameters p, ReadOnlySpan<int> tokens)
    {
        var counts = new Dictionary<int, int>();
        foreach (int t in tokens) counts[t] = counts.GetValueOrDefault(t) + 1;
        foreach (var (t, c) in counts)
            row[t] = PenalizedLogit(row[t], c, 1f / p.RepetitionPenalty, p.RepetitionPenalty, p.FrequencyPenalty, p.PresencePenalty);
    }

    /// <summary>
    /// The penalty formula every backend applies: y = x &gt; 0 ? x · (1/rep) : x · rep (1/rep computed once on the host,
    /// so no device division), then y − freq·count in double (the product is exact, so an FMA contraction cannot change
    /// it), rounded to float, then − presence.
    /// </summary>
    public static float PenalizedLogit(float x, int count, float inverseRepetition, float repetition, float frequency, float presence)
    {
        float y = x > 0f ? x * inverseRepetition : x * repetition;
        y = (float)((double)y - (double)frequency * count);
        return y - presence;
    }

    /// <summary>
    /// acc + w·s as (float)((double)w·s + acc): the double product of two floats is exact, so the one rounding of the
    /// double sum (FMA-contracted or not) and the final rounding to float are the same on every backend.
    /// </summary>
    public static float FusedTerm(float w, float s, float acc) => (float)((double)w * s + acc);

    public void Sample(ReadOnlySpan<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<SampleKey> keys, Span<int> tokens,
        ReadOnlySpan<int> history = default, ReadOnlySpan<int> historyOffsets = default)
    {
        bool penalize = KernelChecks.SampleArguments(logits.Length, vocab, parameters, keys.Length, tokens.Length, history, historyOffsets, out int rows);
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab).ToArray();
            if (penalize) Penalize(row, parameters, history[historyOffsets[r]..historyOffsets[r + 1]]);
            float max = KernelChecks.RowMax(row, r);
            if (parameters.Greedy) { tokens[r] = FirstEqual(row, max); continue; }
            var w = Masses(row, parameters.Temperature, parameters.TopK, parameters.MinP, parameters.TopP, max);
            tokens[r] = Draw(w, Philox4x32.Next64(parameters.Seed, keys[r].RowId, keys[r].Step, 0));
        }
    }

    private static int FirstEqual(float[] row, float max)
    {
        for (int i = 0; i < row.Length; i++) if (row[i] == max) return i;
        return -1;
    }

    /// <summary>First index whose inclusive prefix mass exceeds ⌊r · total / 2^64⌋.</summary>
    internal static int Draw(ulong[] w, ulong random)
    {
        ulong total = 0;
        foreach (ulong x in w) total += x;
        ulong target = FixedPointMass.Target(random, total), acc = 0;
        for (int i = 0; i < w.Length; i++) { acc += w[i]; if (acc > target) return i; }
        throw new InvalidOperationException("unreachable: target below total mass");
    }

    public void FuseCandidates(ReadOnlySpan<float> baseScores, int k, ReadOnlySpan<float> scores, ReadOnlySpan<float> weights, FusionMode mode, Span<float> fused)
    {
        int rows = KernelChecks.Rows(baseScores.Length, k, "base scores");
        int m = weights.Length;
        KernelChecks.Length(scores.Length, (long)m * rows * k, "scores");
        KernelChecks.Length(fused.Length, baseScores.Length, "fused");
        for (int r = 0; r < rows; r++)
        {
            var means = new float[m];
            for (int i = 0; i < m; i++)
            {
                var s = scores.Slice((i * rows + r) * k, k);
                double sum = 0;
                for (int j = 0; j < k; j++)
                {
                    if (float.IsNaN(s[j])) throw new ArgumentException($"scores {i} row {r} contains NaN");
                    sum += s[j];
                }
                means[i] = mode == FusionMode.Centered ? (float)(sum / k) : 0f;
            }
            for (int j = 0; j < k; j++)
            {
                float acc = baseScores[r * k + j];
                for (int i = 0; i < m; i++) acc = FusedTerm(weights[i], scores[(i * rows + r) * k + j] - means[i], acc);
                fused[r * k + j] = acc;
            }
        }
    }

    public void SelectCandidates(ReadOnlySpan<float> fused, int k, float temperature, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> chosen) =>
        Sample(fused, k, new SamplingParameters { Temperature = temperature, Seed = seed }, keys, chosen);

    public void ScatterCandidates(Span<float> logits, int vocab, ReadOnlySpan<int> candidateIds, int k, ReadOnlySpan<float> candidateScores)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(candidateIds.Length, (long)rows * k, "candidate ids");
        KernelChecks.Length(candidateScores.Length, (long)rows * k, "candidate scores");
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++)
            {
                int id = candidateIds[r * k + j];
                if ((uint)id >= (uint)vocab) throw new ArgumentException($"candidate id {id} of row {r} is outside the vocabulary [0, {vocab})");
                logits[r * vocab + id] = candidateScores[r * k + j];
            }
    }

    public void AcceptMetropolisHastings(ReadOnlySpan<float> logRatioTerms, int terms, ulong seed, ReadOnlySpan<SampleKey> keys, Span<bool> accepted)
    {
        int chains = KernelChecks.Rows(logRatioTerms.Length, terms, "log-ratio terms");
        KernelChecks.Length(keys.Length, chains, "keys");
        KernelChecks.Length(accepted.Length, chains, "accepted");
        for (int c = 0; c < chains; c++)
        {
            float delta = 0f;
            for (int t = 0; t < terms; t++) delta += logRatioTerms[c * terms + t];
            if (float.IsNaN(delta)) throw new ArgumentException($"log-ratio of chain {c} is NaN");
            uint u = (uint)Philox4x32.Next64(seed, keys[c].RowId, keys[c].Step, 0);
            accepted[c] = u < FixedPointExp.AcceptThreshold(delta);
        }
    }

    public void GroupArgmax(ReadOnlySpan<float> values, ReadOnlySpan<int> groupOffsets, Span<int> winners)
    {
        KernelChecks.Offsets(groupOffsets, values.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "argmax");
        KernelChecks.Length(winners.Length, groupOffsets.Length - 1, "winners");
        for (int g = 0; g + 1 < groupOffsets.Length; g++)
        {
            int best = -1;
            for (int i = groupOffsets[g]; i < groupOffsets[g + 1]; i++)
            {
                if (float.IsNaN(values[i])) throw new ArgumentException($"values of group {g} contain NaN");
                if (best < 0 || values[i] > values[best]) best = i;
            }
            winners[g] = best;
        }
    }

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
            int lo = groupOffsets[g], hi = groupOffsets[g + 1];
            float max = weighted ? KernelChecks.RowMax(rewards[lo..hi], g, "rewards") : 0f;
            var mass = new SortedDictionary<int, ulong>();
            ulong total = 0;
            for (int i = lo; i < hi; i++)
            {
                ulong w = weighted ? FixedPointExp.Weight(rewards[i], max, scale) : 1UL;
                total += w;
                mass[answers[i]] = mass.GetValueOrDefault(answers[i]) + w;
            }
            int win = -1; ulong best = 0;
            foreach (var (a, w) in mass)
                if (a != -1 && (win == -1 || w > best)) { win = a; best = w; }
            if (win == -1) best = mass.GetValueOrDefault(-1);
            winners[g] = win;
            shares[g] = (float)((double)best / total);
        }
    }

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
            var cum = new ulong[n];
            ulong total = 0;
            for (int i = 0; i < n; i++) { total += KernelChecks.Quantize(weights[lo + i]); cum[i] = total; }
            for (int j = 0; j < n; j++)
            {
                ulong position = Position(scheme, seed, keys[g], j, n, total);
                int i = 0;
                while (cum[i] <= position) i++;
                ancestors[lo + j] = lo + i;
            }
        }
    }

    /// <summary>Integer position in [0, total) of draw j: systematic ⌊(⌊U·S/2^32⌋ + j·S) / N⌋, multinomial ⌊U_j·S/2^32⌋.</summary>
    internal static ulong Position(ResamplingScheme scheme, ulong seed, SampleKey key, int j, int n, ulong total)
    {
        if (scheme == ResamplingScheme.Systematic)
        {
            ulong offset = ((ulong)(uint)Philox4x32.Next64(seed, key.RowId, key.Step, 0) * total) >> 32;
            return (offset + (ulong)j * total) / (ulong)n;
        }
        return ((ulong)(uint)Philox4x32.Next64(seed, key.RowId, key.Step, (uint)j) * total) >> 32;
    }

    public void EffectiveSampleSize(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, Span<float> ess)
    {
        KernelChecks.Offsets(groupOffsets, weights.Length, "group");
        KernelChecks.Length(ess.Length, groupOffsets.Length - 1, "ess");
        for (int g = 0; g + 1 < groupOffsets.Length; g++)
        {
            double s = 0;
            for (int i = groupOffsets[g]; i < groupOffsets[g + 1]; i++) s += (double)weights[i] * weights[i];
            ess[g] = s > 0 ? (float)(1.0 / s) : 0f;
        }
    }
}
