namespace DecodeAlign.Kernels;

/// <summary>Argument and row checks shared by every backend, so all of them reject the same inputs with the same messages.</summary>
internal static class KernelChecks
{
    public static int Rows(int length, int vocab, string what = "logits")
    {
        if (vocab <= 0) throw new ArgumentException($"vocab must be > 0 (got {vocab})");
        if (length % vocab != 0) throw new ArgumentException($"{what} length {length} is not a multiple of vocab {vocab}");
        return length / vocab;
    }

    public static void Length(int actual, long expected, string what)
    {
        if (actual != expected) throw new ArgumentException($"{what} must have {expected} entries (got {actual})");
    }

    public static void Temperature(float temperature)
    {
        if (!(temperature > 0f) || float.IsInfinity(temperature))
            throw new ArgumentException($"temperature must be > 0 and finite (got {temperature})");
    }

    /// <summary>Validates a logits row (no NaN, no +∞, not all −∞) and returns its maximum.</summary>
    public static float RowMax(ReadOnlySpan<float> row, int rowIndex, string what = "logits")
    {
        float max = float.NegativeInfinity;
        bool nan = false;
        foreach (float x in row)
        {
            if (float.IsNaN(x)) nan = true;
            else if (x > max) max = x;
        }
        return Classify(max, nan, rowIndex, what);
    }

    /// <summary>
    /// Validates the arguments every backend's Sample takes: parameters, one key and one output per row, and the
    /// per-row history when penalties apply. Returns whether penalties apply; <paramref name="rows"/> is the row count.
    /// </summary>
    public static bool SampleArguments(int logitsLength, int vocab, SamplingParameters parameters, int keys, int tokens,
        ReadOnlySpan<int> history, ReadOnlySpan<int> historyOffsets, out int rows)
    {
        parameters.Validate();
        rows = Rows(logitsLength, vocab);
        Length(keys, rows, "keys");
        Length(tokens, rows, "tokens");
        var penalize = parameters.HasPenalties && historyOffsets.Length > 0;
        if (penalize) History(history, historyOffsets, rows, vocab);
        return penalize;
    }

    /// <summary>Turns a row's (max, has-NaN) summary into the maximum or the row's error.</summary>
    public static float Classify(float max, bool nan, int rowIndex, string what = "logits")
    {
        if (nan) throw new ArgumentException($"{what} row {rowIndex} contains NaN");
        if (float.IsPositiveInfinity(max)) throw new ArgumentException($"{what} row {rowIndex} contains +Infinity");
        if (float.IsNegativeInfinity(max)) throw new ArgumentException($"{what} row {rowIndex} is entirely -Infinity (every token masked)");
        return max;
    }

    public static void Offsets(ReadOnlySpan<int> offsets, int length, string what)
    {
        if (offsets.Length < 1 || offsets[0] != 0 || offsets[^1] != length)
            throw new ArgumentException($"{what} offsets must start at 0 and end at {length} (one more entry than groups)");
        for (int g = 0; g + 1 < offsets.Length; g++)
            if (offsets[g + 1] < offsets[g]) throw new ArgumentException($"{what} offsets must be non-decreasing (group {g})");
    }

    public static void NonEmptyGroups(ReadOnlySpan<int> offsets, string what)
    {
        for (int g = 0; g + 1 < offsets.Length; g++)
            if (offsets[g + 1] == offsets[g]) throw new ArgumentException($"{what} group {g} is empty");
    }

    public static void History(ReadOnlySpan<int> history, ReadOnlySpan<int> offsets, int rows, int vocab)
    {
        if (offsets.Length != rows + 1) throw new ArgumentException($"history offsets must have rows + 1 = {rows + 1} entries (got {offsets.Length})");
        Offsets(offsets, history.Length, "history");
        for (int i = 0; i < history.Length; i++)
            if ((uint)history[i] >= (uint)vocab) throw new ArgumentException($"history token {history[i]} at position {i} is outside the vocabulary [0, {vocab})");
    }

    /// <summary>
    /// Checks normalised weights of one group and returns them quantised to 2^31 fixed point (truncated) with their sum.
    /// </summary>
    public static void Weights(ReadOnlySpan<float> weights, int group)
    {
        double sum = 0;
        foreach (float w in weights)
        {
            if (!(w >= 0f) || float.IsInfinity(w)) throw new ArgumentException($"weights of group {group} must be finite and >= 0 (got {w})");
            sum += w;
        }
        if (Math.Abs(sum - 1.0) > 1e-3) throw new ArgumentException($"weights of group {group} sum to {sum}, expected normalised weights (sum 1)");
    }

    /// <summary>Weight quantised to 2^31 fixed point (truncation, exact for every backend).</summary>
    public static ulong Quantize(float w) => (ulong)(w * 2147483648.0);

    public static void Beta(float beta)
    {
        if (!(beta > 0f) || float.IsInfinity(beta)) throw new ArgumentException($"beta must be > 0 and finite (got {beta})");
    }
}
