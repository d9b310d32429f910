using DecodeAlign.Kernels;
using DecodeAlign.Testing;

namespace DecodeAlign.Kernels.Tests;

/// <summary>Every backend against the scalar reference: exact for ids, sets, masks and indices; 1e-5 relative for floats.</summary>
public class ParityTests
{
    private const int Rows = 12, Vocab = 203;
    private static readonly ITokenKernels Ref = BackendCatalog.Reference;

    public static TheoryData<string> Backends => BackendCatalog.Names;

    private static IEnumerable<float[]> Inputs() => [RandomLogits.Gaussian(Rows, Vocab, 1), RandomLogits.Adversarial(Rows, Vocab, 2)];

    [Theory, MemberData(nameof(Backends))]
    public void SoftmaxLogSoftmaxEntropy(string backend)
    {
        var k = BackendCatalog.Get(backend);
        foreach (var x in Inputs())
        {
            float[] e = new float[x.Length], a = new float[x.Length];
            Ref.Softmax(x, Vocab, e); k.Softmax(x, Vocab, a); TestInputs.Close(e, a);
            Ref.LogSoftmax(x, Vocab, e); k.LogSoftmax(x, Vocab, a); TestInputs.Close(e, a);
            float[] he = new float[Rows], ha = new float[Rows];
            Ref.Entropy(x, Vocab, he); k.Entropy(x, Vocab, ha); TestInputs.Close(he, ha, 1e-5);
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void TemperatureAndHalf(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var x = RandomLogits.Gaussian(3, 50, 9);
        var e = (float[])x.Clone();
        Ref.ScaleTemperature(e, 0.7f); k.ScaleTemperature(x, 0.7f);
        TestInputs.Close(e, x);
        var h = x.Select(v => (Half)v).ToArray();
        float[] he = new float[h.Length], ha = new float[h.Length];
        Ref.ConvertHalf(h, he); k.ConvertHalf(h, ha);
        Assert.Equal(he, ha);
        Assert.Throws<ArgumentException>(() => k.ScaleTemperature(x, 0f));
    }

    [Theory, MemberData(nameof(Backends))]
    public void TopKIdsAndValuesAreExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        foreach (var x in Inputs())
            foreach (int kk in new[] { 1, 5, 64, Vocab - 1, Vocab, Vocab + 10 })
            {
                int n = Math.Min(kk, Vocab);
                int[] ie = new int[Rows * n], ia = new int[Rows * n];
                float[] ve = new float[Rows * n], va = new float[Rows * n];
                Assert.Equal(n, Ref.TopK(x, Vocab, kk, ie, ve));
                Assert.Equal(n, k.TopK(x, Vocab, kk, ia, va));
                Assert.Equal(ie, ia);
                Assert.Equal(ve, va);
            }
    }

    [Theory, MemberData(nameof(Backends))]
    public void TopPAndMinPMasksAreExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        foreach (var x in Inputs())
        {
            foreach (float p in new[] { 0.05f, 0.5f, 0.9f, 0.999f, 1f })
            {
                float[] e = (float[])x.Clone(), a = (float[])x.Clone();
                Ref.MaskTopP(e, Vocab, p); k.MaskTopP(a, Vocab, p);
                Assert.Equal(e, a);
            }
            foreach (float p in new[] { 0f, 0.01f, 0.3f, 1f })
            {
                float[] e = (float[])x.Clone(), a = (float[])x.Clone();
                Ref.MaskMinP(e, Vocab, p); k.MaskMinP(a, Vocab, p);
                Assert.Equal(e, a);
            }
        }
    }

    public static IEnumerable<SamplingParameters> SamplingCases() =>
    [
        new() { Seed = 1 },
        new() { Seed = 2, Temperature = 0f },
        new() { Seed = 3, Temperature = 0.7f, TopP = 0.9f },
        new() { Seed = 4, Temperature = 1.3f, TopK = 20 },
        new() { Seed = 5, MinP = 0.05f },
        new() { Seed = 6, TopK = 5, TopP = 0.5f, MinP = 0.1f, Temperature = 0.5f },
        new() { Seed = 7, TopK = Vocab + 5, TopP = 0.3f },
        new() { Seed = 8, Temperature = 1e-3f },
        new() { Seed = 9, Temperature = 50f, TopP = 0.99f },
    ];

    [Theory, MemberData(nameof(Backends))]
    public void SampledIdsAreExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        foreach (var x in Inputs())
            foreach (var p in SamplingCases())
                for (int step = 0; step < 3; step++)
                {
                    var keys = TestInputs.Keys(Rows, step);
                    int[] e = new int[Rows], a = new int[Rows];
                    Ref.Sample(x, Vocab, p, keys, e);
                    k.Sample(x, Vocab, p, keys, a);
                    Assert.True(e.SequenceEqual(a), $"{p}: step {step}: [{string.Join(",", e)}] vs [{string.Join(",", a)}]");
                }
    }

    [Theory, MemberData(nameof(Backends))]
    public void PenaltiesAreExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var x = RandomLogits.Gaussian(Rows, Vocab, 11);
        var rng = new Random(4);
        var offsets = new int[Rows + 1];
        var history = new List<int>();
        for (int r = 0; r < Rows; r++)
        {
            int len = r % 4 == 0 ? 0 : rng.Next(1, 40);
            for (int i = 0; i < len; i++) history.Add(rng.Next(r % 3 == 0 ? 5 : Vocab));
            offsets[r + 1] = history.Count;
        }
        var p = new SamplingParameters { Seed = 12, RepetitionPenalty = 1.3f, FrequencyPenalty = 0.4f, PresencePenalty = 0.25f, TopP = 0.95f };
        float[] e = (float[])x.Clone(), a = (float[])x.Clone();
        Ref.ApplyPenalties(e, Vocab, p, history.ToArray(), offsets);
        k.ApplyPenalties(a, Vocab, p, history.ToArray(), offsets);
        Assert.Equal(e, a);
        int[] se = new int[Rows], sa = new int[Rows];
        Ref.Sample(x, Vocab, p, TestInputs.Keys(Rows, 1), se, history.ToArray(), offsets);
        k.Sample(x, Vocab, p, TestInputs.Keys(Rows, 1), sa, history.ToArray(), offsets);
        Assert.Equal(se, sa);
        Ref.Sample(e, Vocab, p with { RepetitionPenalty = 1, FrequencyPenalty = 0, PresencePenalty = 0 }, TestInputs.Keys(Rows, 1), se);
        Assert.Equal(se, sa); // fused penalties == penalties then sampling
    }

    [Theory, MemberData(nameof(Backends))]
    public void SampleDependsOnlyOnRowKeyNotBatchPosition(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var x = RandomLogits.Gaussian(8, Vocab, 21);
        var p = new SamplingParameters { Seed = 99, TopP = 0.9f };
        var keys = TestInputs.Keys(8, 5);
        var all = new int[8];
        k.Sample(x, Vocab, p, keys, all);
        var perm = new[] { 5, 2, 7, 0, 1, 6, 3, 4 };
        var shuffled = perm.SelectMany(r => x.Skip(r * Vocab).Take(Vocab)).ToArray();
        var sk = perm.Select(r => keys[r]).ToArray();
        var out8 = new int[8];
        k.Sample(shuffled, Vocab, p, sk, out8);
        for (int i = 0; i < 8; i++) Assert.Equal(all[perm[i]], out8[i]);
        for (int r = 0; r < 8; r++)
        {
            var one = new int[1];
            k.Sample(x.AsSpan(r * Vocab, Vocab), Vocab, p, keys.AsSpan(r, 1), one);
            Assert.Equal(all[r], one[0]);
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void FusionSelectionAndScatterAreExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        const int K = 20;
        var b = RandomLogits.Gaussian(Rows, K, 31);
        var s = RandomLogits.Gaussian(3 * Rows, K, 32, 10f);
        float[] w = [0.5f, -1.25f, 3f];
        foreach (var mode in new[] { FusionMode.Centered, FusionMode.Raw })
        {
            float[] fe = new float[b.Length], fa = new float[b.Length];
            Ref.FuseCandidates(b, K, s, w, mode, fe);
            k.FuseCandidates(b, K, s, w, mode, fa);
            Assert.Equal(fe, fa);
            foreach (float t in new[] { 0f, 0.5f, 1f, 2f })
            {
                int[] ce = new int[Rows], ca = new int[Rows];
                Ref.SelectCandidates(fe, K, t, 17, TestInputs.Keys(Rows, 3), ce);
                k.SelectCandidates(fe, K, t, 17, TestInputs.Keys(Rows, 3), ca);
                Assert.Equal(ce, ca);
            }
        }
        var ids = new int[Rows * K];
        var top = new float[Rows * K];
        var x = RandomLogits.Gaussian(Rows, Vocab, 33);
        Ref.TopK(x, Vocab, K, ids, top);
        float[] xe = (float[])x.Clone(), xa = (float[])x.Clone();
        Ref.ScatterCandidates(xe, Vocab, ids, K, b);
        k.ScatterCandidates(xa, Vocab, ids, K, b);
        Assert.Equal(xe, xa);
    }

    [Theory, MemberData(nameof(Backends))]
    public void MetropolisHastingsIsExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        const int Chains = 64, Terms = 3;
        var d = RandomLogits.Gaussian(Chains, Terms, 41, 4f);
        d[0] = 100f; d[3] = -1000f; d[6] = float.NegativeInfinity;
        var keys = TestInputs.Keys(Chains, 2);
        bool[] e = new bool[Chains], a = new bool[Chains];
        Ref.AcceptMetropolisHastings(d, Terms, 5, keys, e);
        k.AcceptMetropolisHastings(d, Terms, 5, keys, a);
        Assert.Equal(e, a);
        Assert.Contains(true, a);
        Assert.Contains(false, a);
    }

    private static (int[] Offsets, float[] Values, int[] Answers) Groups(int seed)
    {
        var rng = new Random(seed);
        var sizes = new[] { 1, 4, 8, 16, 3, 32, 5 };
        var offsets = new int[sizes.Length + 1];
        for (int g = 0; g < sizes.Length; g++) offsets[g + 1] = offsets[g] + sizes[g];
        int n = offsets[^1];
        var values = new float[n];
        var answers = new int[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = MathF.Round((float)rng.NextDouble() * 4f) * 0.5f; // ties
            answers[i] = rng.Next(-1, 4);
        }
        for (int i = offsets[4]; i < offsets[5]; i++) answers[i] = -1; // a group without any answer
        return (offsets, values, answers);
    }

    [Theory, MemberData(nameof(Backends))]
    public void GroupArgmaxAndVotesAreExact(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var (offsets, values, answers) = Groups(51);
        int groups = offsets.Length - 1;
        int[] e = new int[groups], a = new int[groups];
        Ref.GroupArgmax(values, offsets, e); k.GroupArgmax(values, offsets, a);
        Assert.Equal(e, a);
        foreach (var rewards in new[] { values, [] })
        {
            float[] se = new float[groups], sa = new float[groups];
            Ref.Vote(answers, rewards, offsets, 0.7f, e, se);
            k.Vote(answers, rewards, offsets, 0.7f, a, sa);
            Assert.Equal(e, a);
            TestInputs.Close(se, sa);
            Assert.Equal(-1, a[4]);
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void ResamplingIndicesAreExactAndEssClose(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var (offsets, values, _) = Groups(61);
        int groups = offsets.Length - 1;
        var w = new float[values.Length];
        for (int g = 0; g < groups; g++)
        {
            double z = 0;
            for (int i = offsets[g]; i < offsets[g + 1]; i++) z += Math.Exp(values[i] * 3);
            for (int i = offsets[g]; i < offsets[g + 1]; i++) w[i] = (float)(Math.Exp(values[i] * 3) / z);
        }
        w[offsets[2]] = 0f; // a zero-weight particle is never chosen
        float rest = 0f;
        for (int i = offsets[2]; i < offsets[3]; i++) rest += w[i];
        for (int i = offsets[2]; i < offsets[3]; i++) w[i] /= rest;
        var keys = TestInputs.Keys(groups, 4);
        foreach (var scheme in new[] { ResamplingScheme.Systematic, ResamplingScheme.Multinomial })
        {
            int[] e = new int[w.Length], a = new int[w.Length];
            Ref.Resample(w, offsets, scheme, 8, keys, e);
            k.Resample(w, offsets, scheme, 8, keys, a);
            Assert.Equal(e, a);
            Assert.DoesNotContain(offsets[2], a);
            for (int g = 0; g < groups; g++)
                for (int i = offsets[g]; i < offsets[g + 1]; i++) Assert.InRange(a[i], offsets[g], offsets[g + 1] - 1);
        }
        float[] ee = new float[groups], ea = new float[groups];
        Ref.EffectiveSampleSize(w, offsets, ee);
        k.EffectiveSampleSize(w, offsets, ea);
        TestInputs.Close(ee, ea);
    }

    [Theory, MemberData(nameof(Backends))]
    public void BadRowsAreRejectedWithTheRowNamed(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var x = RandomLogits.Gaussian(5, 40, 71);
        var keys = TestInputs.Keys(5, 0);
        var p = new SamplingParameters();
        var nan = (float[])x.Clone(); nan[3 * 40 + 7] = float.NaN;
        Assert.Contains("logits row 3 contains NaN", Assert.Throws<ArgumentException>(() => k.Sample(nan, 40, p, keys, new int[5])).Message);
        Assert.Contains("row 3 contains NaN", Assert.Throws<ArgumentException>(() => k.Softmax(nan, 40, new float[200])).Message);
        Assert.Contains("row 3 contains NaN", Assert.Throws<ArgumentException>(() => k.TopK(nan, 40, 3, new int[15], new float[15])).Message);
        var masked = (float[])x.Clone(); masked.AsSpan(2 * 40, 40).Fill(float.NegativeInfinity);
        Assert.Contains("logits row 2 is entirely -Infinity", Assert.Throws<ArgumentException>(() => k.Sample(masked, 40, p, keys, new int[5])).Message);
        Assert.Contains("row 2 is entirely -Infinity", Assert.Throws<ArgumentException>(() => k.LogSoftmax(masked, 40, new float[200])).Message);
        var inf = (float[])x.Clone(); inf[1 * 40] = float.PositiveInfinity;
        Assert.Contains("logits row 1 contains +Infinity", Assert.Throws<ArgumentException>(() => k.Sample(inf, 40, p with { Temperature = 0 }, keys, new int[5])).Message);
        Assert.Throws<ArgumentException>(() => k.Sample(x, 40, p, keys.AsSpan(0, 4), new int[5]));
        Assert.Throws<ArgumentException>(() => k.Sample(x, 41, p, keys, new int[5]));
    }
}
