using DecodeAlign.Kernels;
using DecodeAlign.Testing;

namespace DecodeAlign.Kernels.Tests;

public class FixedPointMassTests
{
    [Fact]
    public void Exp2NegIsAccurateAndMonotone()
    {
        ulong previous = ulong.MaxValue;
        for (int q = 0; q <= 40 << 24; q += 4099)
        {
            ulong w = FixedPointExp.Exp2Neg(q);
            double exact = Math.Pow(2, 40 - q / 16777216.0);
            Assert.True(Math.Abs(w - exact) <= 3e-8 * exact + 1, $"q={q}: {w} vs {exact}");
            Assert.True(w <= previous, $"not monotone at q={q}");
            previous = w;
        }
        Assert.Equal(FixedPointExp.One, FixedPointExp.Exp2Neg(0));
    }

    [Fact]
    public void MassTableIsAccurateAndFixed()
    {
        var t = FixedPointMass.ExpTable;
        Assert.Equal(1 << FixedPointMass.FractionBits, t.Length);
        Assert.Equal(FixedPointMass.One, t[0]);
        ulong hash = 14695981039346656037UL; // FNV-1a over the entries: the table must be the same bits on every machine
        for (int j = 0; j < t.Length; j++)
        {
            double exact = Math.Pow(2, 31 - j / 4096.0);
            Assert.True(Math.Abs(t[j] - exact) <= 6.5e-8 * exact, $"T[{j}] = {t[j]} vs {exact}");
            if (j > 0) Assert.True(t[j] < t[j - 1], $"not decreasing at {j}");
            hash = (hash ^ t[j]) * 1099511628211UL;
        }
        Assert.Equal(TableHash, hash);
    }

    private const ulong TableHash = 3218890914828722609;

    [Fact]
    public void MassIsWithinTheDocumentedBound()
    {
        // scale 1: t = y − max in log2 units; the bound is |W − 2^31·2^t| ≤ 8.5e-5 · 2^31·2^t + 1.
        var rng = new Random(11);
        uint previous = uint.MaxValue;
        for (int k = 0; k <= 33 * 8192; k++)
        {
            float y = -k / 8192f;
            uint w = FixedPointMass.Weight(y, 0f, 1f);
            double exact = Math.Pow(2, 31 + (double)y);
            Assert.True(Math.Abs(w - exact) <= 8.5e-5 * exact + 1, $"t={y}: {w} vs {exact}");
            Assert.True(w <= previous, $"not monotone at t={y}");
            previous = w;
            float z = -(float)(rng.NextDouble() * 34);
            double e2 = Math.Pow(2, 31 + (double)z);
            Assert.True(Math.Abs(FixedPointMass.Weight(z, 0f, 1f) - e2) <= 8.5e-5 * e2 + 1, $"t={z}");
        }
        Assert.Equal(FixedPointMass.One, FixedPointMass.Weight(3f, 3f, FixedPointMass.ScaleFor(0.7f)));
        Assert.Equal(0u, FixedPointMass.Weight(float.NegativeInfinity, 0f, 1f));
        Assert.Equal(0u, FixedPointMass.Weight(-31.5f, 0f, 1f));
        Assert.Equal(1u, FixedPointMass.Weight(-31f, 0f, 1f));
    }

    [Fact]
    public void SimdCandidatesEqualScalarDefinition()
    {
        var x = RandomLogits.Adversarial(12, 203, 5);
        foreach (float scale in new[] { FixedPointMass.ScaleFor(1f), FixedPointMass.ScaleFor(0.3f), FixedPointMass.ScaleFor(7f) })
            for (int r = 0; r < 12; r++)
            {
                var row = x.AsSpan(r * 203, 203);
                float max = float.NegativeInfinity;
                foreach (float v in row) max = Math.Max(max, v);
                var w = new uint[203 + SimdMassRow.Slack];
                var ids = new int[203 + SimdMassRow.Slack];
                uint minMass = r % 2 == 0 ? 0 : FixedPointMass.MinPMass(0.01f);
                uint level = r % 3 == 0 ? 1u : SimdMassRow.FirstLevel;
                ulong total = SimdMassRow.Candidates(row, max, scale, minMass, level, w, ids, out int count);
                ulong sum = 0;
                int n = 0;
                for (int i = 0; i < 203; i++)
                {
                    uint e = FixedPointMass.Weight(row[i], max, scale);
                    if (e < minMass) e = 0;
                    sum += e;
                    if (e < level) continue;
                    Assert.Equal(i, ids[n]);
                    Assert.Equal(e, w[n++]);
                }
                Assert.Equal(n, count);
                Assert.Equal(sum, total);
            }
    }

    [Fact]
    public void MulHighMatchesUInt128()
    {
        var rng = new Random(3);
        for (int i = 0; i < 1000; i++)
        {
            ulong a = (ulong)rng.NextInt64() * 3, b = (ulong)rng.NextInt64() ^ (ulong)i << 60;
            Assert.Equal((ulong)(((UInt128)a * b) >> 64), FixedPointMass.MulHigh(a, b));
        }
    }

    [Fact]
    public void AcceptThresholdFollowsExp()
    {
        Assert.Equal(1UL << 32, FixedPointExp.AcceptThreshold(0f));
        Assert.Equal(1UL << 32, FixedPointExp.AcceptThreshold(50f));
        foreach (float d in new[] { -0.1f, -1f, -5f, -19.9f })
            Assert.InRange(FixedPointExp.AcceptThreshold(d) / 4294967296.0, Math.Exp(d) * (1 - 1e-6) - 1e-9, Math.Exp(d) * (1 + 1e-6));
        Assert.Equal(FixedPointExp.AcceptThreshold(-20f), FixedPointExp.AcceptThreshold(-1000f));
    }
}
