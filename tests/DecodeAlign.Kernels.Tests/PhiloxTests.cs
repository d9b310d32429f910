using DecodeAlign.Kernels;

namespace DecodeAlign.Kernels.Tests;

public class PhiloxTests
{
    [Fact]
    public void MatchesRandom123KnownAnswers()
    {
        // Known-answer vectors of Random123's kat_vectors for philox4x32_10.
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), Philox4x32.Block(0, 0, 0, 0, 0, 0));
        Assert.Equal((0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu),
            Philox4x32.Block(uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue, uint.MaxValue));
        Assert.Equal((0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u),
            Philox4x32.Block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    [Fact]
    public void DependsOnEveryKeyPart()
    {
        ulong a = Philox4x32.Next64(1, 2, 3, 0);
        Assert.Equal(a, Philox4x32.Next64(1, 2, 3, 0));
        Assert.NotEqual(a, Philox4x32.Next64(2, 2, 3, 0));
        Assert.NotEqual(a, Philox4x32.Next64(1, 3, 3, 0));
        Assert.NotEqual(a, Philox4x32.Next64(1, 2, 4, 0));
        Assert.NotEqual(a, Philox4x32.Next64(1, 2, 3, 1));
    }
}
