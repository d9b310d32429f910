using DecodeAlign.Kernels;

namespace DecodeAlign.Kernels.Tests;

/// <summary>SIMD backend on realistic shapes (fast path, SIMD masses, candidate-list nucleus, heap top-k) against the reference.</summary>
public class LargeVocabularyTests
{
    [Fact]
    public void SimdMatchesReferenceOnLargeVocabulary()
    {
        const int Rows = 3, Vocab = 50_000;
        var k = BackendCatalog.Get("cpu");
        var x = TestInputs.Gaussian(Rows, Vocab, 81, 2f);
        for (int i = 0; i < Vocab; i += 97) x[Vocab + i] = MathF.Round(x[Vocab + i]); // ties in row 1
        int[] ie = new int[Rows * 1024], ia = new int[Rows * 1024];
        float[] ve = new float[Rows * 1024], va = new float[Rows * 1024];
        BackendCatalog.Reference.TopK(x, Vocab, 1024, ie, ve);
        k.TopK(x, Vocab, 1024, ia, va);
        Assert.Equal(ie, ia);
        Assert.Equal(ve, va);
        foreach (var p in new SamplingParameters[] { new() { Seed = 1, TopP = 0.95f }, new() { Seed = 2, TopK = 1000, TopP = 0.8f, Temperature = 0.8f }, new() { Seed = 3, MinP = 0.02f } })
            for (int step = 0; step < 4; step++)
            {
                int[] e = new int[Rows], a = new int[Rows];
                BackendCatalog.Reference.Sample(x, Vocab, p, TestInputs.Keys(Rows, step), e);
                k.Sample(x, Vocab, p, TestInputs.Keys(Rows, step), a);
                Assert.Equal(e, a);
            }
    }

    [Fact]
    public void NucleusWithMassiveTiesMatchesReference()
    {
        const int Vocab = 20_000;
        var k = BackendCatalog.Get("cpu");
        var x = new float[3 * Vocab];
        for (int i = 0; i < Vocab; i++) { x[Vocab + i] = i % 3; x[2 * Vocab + i] = MathF.Round(MathF.Sin(i) * 4f) / 2f; } // row 0 flat
        foreach (float p in new[] { 0.37f, 0.5f, 0.9f, 0.999f })
        {
            float[] e = (float[])x.Clone(), a = (float[])x.Clone();
            BackendCatalog.Reference.MaskTopP(e, Vocab, p);
            k.MaskTopP(a, Vocab, p);
            Assert.Equal(e, a);
            int[] te = new int[3], ta = new int[3];
            BackendCatalog.Reference.Sample(x, Vocab, new SamplingParameters { Seed = 5, TopP = p }, TestInputs.Keys(3, 2), te);
            k.Sample(x, Vocab, new SamplingParameters { Seed = 5, TopP = p }, TestInputs.Keys(3, 2), ta);
            Assert.Equal(te, ta);
        }
    }

    [Fact]
    public void ParallelRowsReportTheLowestBadRow()
    {
        const int Rows = 8, Vocab = 20_000;
        var x = TestInputs.Gaussian(Rows, Vocab, 91);
        x[5 * Vocab + 3] = float.NaN;
        x.AsSpan(2 * Vocab, Vocab).Fill(float.NegativeInfinity);
        var ex = Assert.Throws<ArgumentException>(() => BackendCatalog.Get("cpu").Sample(x, Vocab, new SamplingParameters(), TestInputs.Keys(Rows, 0), new int[Rows]));
        Assert.Contains("logits row 2 is entirely -Infinity", ex.Message);
    }

    [Fact]
    public void SampleFrequenciesFollowTheSoftmax()
    {
        const int Vocab = 6, Draws = 60_000;
        float[] logits = [1f, 0f, -1f, 2f, float.NegativeInfinity, 0.5f];
        var k = BackendCatalog.Get("cpu");
        var keys = Enumerable.Range(0, Draws).Select(i => new SampleKey(i, 0)).ToArray();
        var batch = Enumerable.Range(0, Draws).SelectMany(_ => logits).ToArray();
        var tokens = new int[Draws];
        k.Sample(batch, Vocab, new SamplingParameters { Seed = 7 }, keys, tokens);
        var p = new float[Vocab];
        BackendCatalog.Reference.Softmax(logits, Vocab, p);
        for (int v = 0; v < Vocab; v++)
        {
            double f = tokens.Count(t => t == v) / (double)Draws, sd = Math.Sqrt(p[v] * (1 - p[v]) / Draws);
            Assert.True(Math.Abs(f - p[v]) <= 5 * sd + 1e-9, $"token {v}: frequency {f} vs probability {p[v]}");
        }
    }
}
