using DecodeAlign.Kernels;

namespace DecodeAlign.Kernels.Tests;

/// <summary>Keys and tolerances shared by the parity tests; the logit batches are <see cref="DecodeAlign.Testing.RandomLogits"/> (fixed seeds, so failures reproduce).</summary>
internal static class TestInputs
{
    public static SampleKey[] Keys(int rows, int step, long first = 0) =>
        Enumerable.Range(0, rows).Select(r => new SampleKey(first + r * 7919L, step)).ToArray();

    /// <summary>Asserts |a − b| ≤ 1e-5 · max(|a|, |b|) + absolute, with equal infinities accepted.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double absolute = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (e == a || (float.IsNaN(e) && float.IsNaN(a))) continue;
            double tol = 1e-5 * Math.Max(Math.Abs(e), Math.Abs(a)) + absolute;
            Assert.True(Math.Abs(e - a) <= tol, $"index {i}: expected {e}, got {a}");
        }
    }
}
