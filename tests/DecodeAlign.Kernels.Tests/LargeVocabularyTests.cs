using DecodeAlign.Kernels;
using DecodeAlign.Testing;

namespace DecodeAlign.Kernels.Tests;

/// <summary>SIMD backend on realistic shapes (fast path, SIMD masses, candidate-list nucleus, heap top-k) against the reference.</summary>
public class LargeVocabularyTests
{
    [Fact]
    public void SimdMatchesReferenceOnLargeVocabulary()
    {
        const int Rows = 3, Vocab = 50_000;
        var k = BackendCatalog.Get("cpu");
        var x = RandomLogits.Gaussian(Rows, Vocab, 81, 2f);
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
    public void NucleusBelowTheCandidateLevelsMatchesReference()
    {
        // Row 0: the nucleus reaches tokens 14 log2 units below the top (between the first and second candidate levels);
        // row 1: 18 units below (under the second level too, so the lowest level decides); row 2: Gaussian.
        const int Vocab = 100_000;
        var x = RandomLogits.Gaussian(3, Vocab, 17);
        float unit = 1f / 1.442695f; // one log2 unit at temperature 1
        for (int i = 0; i < Vocab; i++)
        {
            x[i] = i < 20_000 ? -14f * unit - (i % 7) * 0.01f : -40f + x[i];
            x[Vocab + i] = i < 60_000 ? -18f * unit - (i % 5) * 0.01f : -40f + x[Vocab + i];
        }
        x[1234] = 0f;
        x[Vocab + 77_777] = 0f;
        var k = BackendCatalog.Get("cpu");
        foreach (float p in new[] { 0.5f, 0.9f, 0.99f })
            for (int step = 0; step < 3; step++)
            {
                var parameters = new SamplingParameters { Seed = 11, TopP = p };
                int[] e = new int[3], a = new int[3];
                BackendCatalog.Reference.Sample(x, Vocab, parameters, TestInputs.Keys(3, step), e);
                k.Sample(x, Vocab, parameters, TestInputs.Keys(3, step), a);
                Assert.Equal(e, a);
                float[] me = (float[])x.Clone(), ma = (float[])x.Clone();
                BackendCatalog.Reference.MaskTopP(me, Vocab, p);
                k.MaskTopP(ma, Vocab, p);
                Assert.Equal(me, ma);
            }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ParallelRowsReportTheLowestBadRow(bool forceParallel)
    {
        const int Rows = 8, Vocab = 20_000;
        var x = RandomLogits.Gaussian(Rows, Vocab, 91);
        x[5 * Vocab + 3] = float.NaN;
        x.AsSpan(2 * Vocab, Vocab).Fill(float.NegativeInfinity);
        using var k = forceParallel ? new SimdTokenKernels(parallelMinProcessors: 1) : new SimdTokenKernels();
        var ex = Assert.Throws<ArgumentException>(() => k.Sample(x, Vocab, new SamplingParameters(), TestInputs.Keys(Rows, 0), new int[Rows]));
        Assert.Contains("logits row 2 is entirely -Infinity", ex.Message);
    }

    [Fact]
    public void ParallelRowsMatchReference()
    {
        const int Rows = 16, Vocab = 40_000;
        var x = RandomLogits.Gaussian(Rows, Vocab, 23);
        using var k = new SimdTokenKernels(parallelMinProcessors: 1);
        int[] history = [5, 5, 9, 17, 5], offsets = new int[Rows + 1];
        for (int r = 1; r <= Rows; r++) offsets[r] = r % 2 == 0 ? history.Length : offsets[r - 1];
        foreach (var p in new SamplingParameters[] { new() { Seed = 4, TopP = 0.9f, Temperature = 0.8f }, new() { Seed = 5, TopK = 50 }, new() { Seed = 6, RepetitionPenalty = 1.3f, MinP = 0.05f } })
        {
            int[] e = new int[Rows], a = new int[Rows];
            BackendCatalog.Reference.Sample(x, Vocab, p, TestInputs.Keys(Rows, 1), e, history, offsets);
            k.Sample(x, Vocab, p, TestInputs.Keys(Rows, 1), a, history, offsets);
            Assert.Equal(e, a);
        }
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
