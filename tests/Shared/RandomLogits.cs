namespace DecodeAlign.Testing;

/// <summary>
/// Seeded logit batches for kernel checks, shared by the kernel parity tests and the GPU device check
/// (benchmarks' gpu-kernels links this file), so both exercise the same random and adversarial rows.
/// </summary>
internal static class RandomLogits
{
    /// <summary>Gaussian logits scaled by <paramref name="spread"/>.</summary>
    public static float[] Gaussian(int rows, int vocab, int seed, float spread = 3f)
    {
        var rng = new Random(seed);
        var x = new float[rows * vocab];
        for (int i = 0; i < x.Length; i++)
            x[i] = spread * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return x;
    }

    /// <summary>
    /// Adversarial rows: heavy ties (values on a coarse grid), −∞ entries, ±0, a row of equal values, a row with a
    /// single finite entry, rows with huge magnitudes; the remaining rows random.
    /// </summary>
    public static float[] Adversarial(int rows, int vocab, int seed)
    {
        var rng = new Random(seed);
        var x = Gaussian(rows, vocab, seed);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * vocab, vocab);
            switch (r % 6)
            {
                case 0: for (int i = 0; i < vocab; i++) row[i] = MathF.Round(row[i]); break;            // ties, ±0
                case 1: for (int i = 0; i < vocab; i++) if (rng.Next(3) == 0) row[i] = float.NegativeInfinity; break;
                case 2: row.Fill(1.5f); break;                                                            // all equal
                case 3: row.Fill(float.NegativeInfinity); row[rng.Next(vocab)] = -7f; break;             // one finite
                case 4: for (int i = 0; i < vocab; i++) row[i] = row[i] * 1e4f; break;                    // huge spread
                default: for (int i = 0; i < vocab; i++) row[i] = i % 2 == 0 ? 0f : -0f; row[vocab / 2] = 1e-3f; break;
            }
        }
        return x;
    }
}
