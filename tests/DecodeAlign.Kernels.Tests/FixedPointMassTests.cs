using DecodeAlign.Kernels;

namespace DecodeAlign.Kernels.Tests;

public class FixedPointMassTests
{
    [Fact]
    public void Exp2NegIsAccurateAndMonotone()
    {
        ulong previous = ulong.MaxValue;
        for (int q = 0; q <= 40 << 24; q += 4099)
        {
            ulong w = FixedPointMass.Exp2Neg(q);
            double exact = Math.Pow(2, 40 - q / 16777216.0);
            Assert.True(Math.Abs(w - exact) <= 3e-8 * exact + 1, $"q={q}: {w} vs {exact}");
            Assert.True(w <= previous, $"not monotone at q={q}");
            previous = w;
        }
        Assert.Equal(FixedPointMass.One, FixedPointMass.Exp2Neg(0));
    }

    [Fact]
    public void SimdMassesEqualScalarDefinition()
    {
        var x = TestInputs.Adversarial(12, 203, 5);
        foreach (float scale in new[] { FixedPointMass.ScaleFor(1f), FixedPointMass.ScaleFor(0.3f), FixedPointMass.ScaleFor(7f) })
            for (int r = 0; r < 12; r++)
            {
                var row = x.AsSpan(r * 203, 203);
                float max = float.NegativeInfinity;
                foreach (float v in row) max = Math.Max(max, v);
                var w = new ulong[203];
                ulong minMass = r % 2 == 0 ? 0 : FixedPointMass.MinPMass(0.01f);
                ulong total = SimdMassRow.Masses(row, max, scale, minMass, w);
                ulong sum = 0;
                for (int i = 0; i < 203; i++)
                {
                    ulong e = FixedPointMass.Weight(row[i], max, scale);
                    if (e < minMass) e = 0;
                    Assert.Equal(e, w[i]);
                    sum += e;
                }
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
        Assert.Equal(1UL << 32, FixedPointMass.AcceptThreshold(0f));
        Assert.Equal(1UL << 32, FixedPointMass.AcceptThreshold(50f));
        foreach (float d in new[] { -0.1f, -1f, -5f, -19.9f })
            Assert.InRange(FixedPointMass.AcceptThreshold(d) / 4294967296.0, Math.Exp(d) * (1 - 1e-6) - 1e-9, Math.Exp(d) * (1 + 1e-6));
        Assert.Equal(FixedPointMass.AcceptThreshold(-20f), FixedPointMass.AcceptThreshold(-1000f));
    }
}
