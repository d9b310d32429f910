using DecodeAlign.Kernels;
using DecodeAlign.Testing;

namespace DecodeAlign.Kernels.Tests;

/// <summary>Hand-checked semantics (tie rules, centring, vote rules, tiny shapes) on every backend.</summary>
public class SemanticsTests
{
    public static TheoryData<string> Backends => BackendCatalog.Names;

    [Theory, MemberData(nameof(Backends))]
    public void TiesGoToTheLowestId(string backend)
    {
        var k = BackendCatalog.Get(backend);
        float[] x = [1f, 3f, -0f, 3f, 0f, 3f];
        var tok = new int[1];
        k.Sample(x, 6, new SamplingParameters { Temperature = 0 }, [new SampleKey(0, 0)], tok);
        Assert.Equal(1, tok[0]);
        int[] ids = new int[4];
        float[] vals = new float[4];
        k.TopK(x, 6, 4, ids, vals);
        Assert.Equal([1, 3, 5, 0], ids);
        k.TopK(x, 6, 6, new int[6], new float[6]);
        var all = new int[6];
        k.TopK(x, 6, 60, all, new float[6]);
        Assert.Equal([1, 3, 5, 0, 2, 4], all);
        var win = new int[1];
        k.GroupArgmax(x, [0, 6], win);
        Assert.Equal(1, win[0]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void TinyVocabulariesWork(string backend)
    {
        var k = BackendCatalog.Get(backend);
        foreach (int v in new[] { 1, 2, 3 })
        {
            var x = RandomLogits.Gaussian(4, v, v);
            int[] e = new int[4], a = new int[4];
            var p = new SamplingParameters { Seed = 3, TopK = 2, TopP = 0.6f };
            BackendCatalog.Reference.Sample(x, v, p, TestInputs.Keys(4, 0), e);
            k.Sample(x, v, p, TestInputs.Keys(4, 0), a);
            Assert.Equal(e, a);
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void SamplingVariesWithStepAndRowButNotWithBackend(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var x = Enumerable.Repeat(0f, 64).ToArray(); // uniform over 64 tokens
        var seen = new HashSet<int>();
        var one = new int[1];
        for (int step = 0; step < 20; step++)
        {
            k.Sample(x, 64, new SamplingParameters { Seed = 1 }, [new SampleKey(5, step)], one);
            seen.Add(one[0]);
        }
        Assert.True(seen.Count > 10, $"only {seen.Count} distinct tokens in 20 uniform draws");
    }

    [Theory, MemberData(nameof(Backends))]
    public void CenteredFusionSubtractsTheCandidateMean(string backend)
    {
        var k = BackendCatalog.Get(backend);
        float[] b = [-1f, -2f, -3f], s = [1f, 2f, 6f];
        var f = new float[3];
        k.FuseCandidates(b, 3, s, [0.5f], FusionMode.Centered, f);
        Assert.Equal([-1f + 0.5f * (1 - 3), -2f + 0.5f * (2 - 3), -3f + 0.5f * (6 - 3)], f);
        k.FuseCandidates(b, 3, s, [0.5f], FusionMode.Raw, f);
        Assert.Equal([-0.5f, -1f, 0f], f);
        var chosen = new int[1];
        k.SelectCandidates(f, 3, 0f, 0, [new SampleKey(0, 0)], chosen);
        Assert.Equal(2, chosen[0]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void ScatterKeepsOtherTokens(string backend)
    {
        var k = BackendCatalog.Get(backend);
        float[] x = [0f, 1f, 2f, 3f, 10f, 11f, 12f, 13f];
        k.ScatterCandidates(x, 4, [3, 0, 1, 2], 2, [-5f, -6f, -7f, -8f]);
        Assert.Equal([-6f, 1f, 2f, -5f, 10f, -7f, -8f, 13f], x);
        Assert.Throws<ArgumentException>(() => k.ScatterCandidates(x, 4, [4, 0, 1, 2], 2, [0f, 0f, 0f, 0f]));
    }

    [Theory, MemberData(nameof(Backends))]
    public void VoteRules(string backend)
    {
        var k = BackendCatalog.Get(backend);
        // group 0: answers 7 and 3 tie (2 votes each) → 3; group 1: −1 majority but 5 present → 5; group 2: all −1 → −1.
        int[] answers = [7, 3, 7, 3, -1, -1, -1, 5, -1, -1];
        int[] offsets = [0, 4, 8, 10];
        int[] win = new int[3];
        float[] share = new float[3];
        k.Vote(answers, [], offsets, 1f, win, share);
        Assert.Equal([3, 5, -1], win);
        Assert.Equal([0.5f, 0.25f, 1f], share);
        // weighted: one high-reward 7 beats two low-reward 3s at small β
        float[] rewards = [5f, 0f, -10f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        k.Vote(answers, rewards, offsets, 0.5f, win, share);
        Assert.Equal(7, win[0]);
        Assert.Throws<ArgumentException>(() => k.Vote(answers, rewards, offsets, 0f, win, share));
    }

    [Theory, MemberData(nameof(Backends))]
    public void UniformSystematicResamplingKeepsEveryParticleOnce(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var w = Enumerable.Repeat(0.125f, 8).ToArray();
        var a = new int[8];
        k.Resample(w, [0, 8], ResamplingScheme.Systematic, 3, [new SampleKey(1, 1)], a);
        Assert.Equal(Enumerable.Range(0, 8), a);
        var ess = new float[1];
        k.EffectiveSampleSize(w, [0, 8], ess);
        Assert.Equal(8f, ess[0], 4);
        Assert.Contains("sum to", Assert.Throws<ArgumentException>(() => k.Resample([0.5f, 0.2f], [0, 2], ResamplingScheme.Multinomial, 1, [new SampleKey(0, 0)], new int[2])).Message);
    }

    [Theory, MemberData(nameof(Backends))]
    public void MetropolisHastingsEdgeCases(string backend)
    {
        var k = BackendCatalog.Get(backend);
        var keys = TestInputs.Keys(4, 0);
        var acc = new bool[4];
        k.AcceptMetropolisHastings([0f, 3f, -1000f, float.NegativeInfinity], 1, 1, keys, acc);
        Assert.True(acc[0] && acc[1]);
        Assert.Contains("chain 1 is NaN", Assert.Throws<ArgumentException>(() => k.AcceptMetropolisHastings([0f, float.NaN], 1, 1, keys.AsSpan(0, 2), new bool[2])).Message);
    }
}
