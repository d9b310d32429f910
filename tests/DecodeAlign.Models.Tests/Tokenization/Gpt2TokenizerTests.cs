using System.Diagnostics;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>The real GPT-2 byte-level tokenizer in ../shared/models/gpt2-tokenizer.</summary>
public sealed class Gpt2TokenizerTests
{
    private static readonly Lazy<TextTokenizer> Gpt2 = new(() => TextTokenizer.Load(SharedModels.PathOf("gpt2-tokenizer")));

    [SharedFact]
    public void HelloWorldHasTheWellKnownIds()
    {
        Assert.Equal([15496, 995], Gpt2.Value.Encode("Hello world"));
        Assert.Equal("Hello world", Gpt2.Value.Decode([15496, 995]));
    }

    [SharedFact]
    public void LoadsFromTheFileAsFromTheFolder()
    {
        var fromFile = TextTokenizer.Load(SharedModels.PathOf("gpt2-tokenizer", "tokenizer.json"));
        Assert.Equal(SharedModels.PathOf("gpt2-tokenizer", "tokenizer.json"), fromFile.Source);
        Assert.Equal(Gpt2.Value.Encode("The quick brown fox"), fromFile.Encode("The quick brown fox"));
        Assert.IsType<Microsoft.ML.Tokenizers.BpeTokenizer>(fromFile.Inner);
    }

    [SharedFact]
    public void SpecialTokensComeFromTokenizerConfig()
    {
        var t = Gpt2.Value;
        Assert.Equal(50295, t.VocabSize); // 50,257 model tokens plus the 38 whitespace-run added tokens
        Assert.Equal(50256, t.Special.Eos);
        Assert.Equal(50256, t.Special.Bos);
        Assert.Null(t.Special.Pad);
        Assert.Contains(50256, t.Special.AllSpecialIds);
        Assert.False(t.AddBosToken);
        Assert.Equal(50256, t.TokenToId("<|endoftext|>"));
        Assert.Equal("Ġworld", t.IdToToken(995));
        Assert.Null(t.IdToToken(t.VocabSize));
        Assert.Null(t.TokenToId("no such token"));
    }

    [SharedFact]
    public void WellKnownIdsForWhitespaceAndSpecials()
    {
        var t = Gpt2.Value;
        Assert.Equal([15496, 995, 50256], t.Encode("Hello world<|endoftext|>"));
        Assert.Equal([198], t.Encode("\n"));
        Assert.Equal([220], t.Encode(" "));
        Assert.Equal("Hello world", t.Decode([15496, 995, 50256]));
        Assert.Equal("Hello world<|endoftext|>", t.Decode([15496, 995, 50256], skipSpecialTokens: false));
    }

    [SharedFact]
    public void WhitespaceRunsUseTheAddedTokensAsHuggingFaceDoes()
    {
        var t = Gpt2.Value;
        // HF cuts added tokens out before pre-tokenization; "   " (three spaces) is added token 50285.
        Assert.Equal("   ", t.IdToToken(50285));
        Assert.Equal([64, 50285, 65], t.Encode("a   b"));
        Assert.Equal("a   b", t.Decode([64, 50285, 65]));
    }

    [SharedTheory]
    [MemberData(nameof(Texts))]
    public void RoundTripsTextAndStreamsIdentically(string text)
    {
        var t = Gpt2.Value;
        var ids = t.Encode(text);
        Assert.Equal(text, t.Decode(ids));
        Assert.Equal(text, TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: true));
    }

    public static TheoryData<string> Texts() => [.. TokenizerAssert.HardTexts];

    [SharedFact]
    public void StreamingHoldsBackIncompleteUtf8()
    {
        var t = Gpt2.Value;
        var ids = t.Encode("😀");
        Assert.True(ids.Length > 1, "GPT-2 spells the emoji with several byte tokens");
        var stream = t.CreateStreamingDetokenizer();
        for (int i = 0; i < ids.Length - 1; i++) Assert.Equal("", stream.Push(ids[i]));
        Assert.Equal("😀", stream.Push(ids[^1]));
        Assert.Equal("", stream.Flush());
    }

    [SharedFact]
    public void BrokenUtf8DecodesToReplacementCharacters()
    {
        var t = Gpt2.Value;
        var ids = t.Encode("😀");
        var broken = new[] { ids[0], 15496 }; // a lead byte followed by "Hello"
        Assert.Equal("\uFFFDHello", t.Decode(broken));
        TokenizerAssert.StreamAndCompare(t, broken, skipSpecialTokens: true);
        var stream = t.CreateStreamingDetokenizer();
        Assert.Equal("", stream.Push(ids[0]));
        Assert.Equal("\uFFFD", stream.Flush());
    }

    [SharedFact]
    public void StreamingMatchesDecodeOnRandomIds()
    {
        var t = Gpt2.Value;
        var random = new Random(1234);
        for (int round = 0; round < 200; round++)
        {
            var ids = Enumerable.Range(0, random.Next(1, 40)).Select(_ => random.Next(0, t.VocabSize + 3)).ToArray();
            TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: true);
            TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: false);
        }
    }

    [SharedFact]
    public void LoadsQuickly()
    {
        var watch = Stopwatch.StartNew();
        var t = TextTokenizer.Load(SharedModels.PathOf("gpt2-tokenizer"));
        t.Encode("warm up");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"loading took {watch.Elapsed}");
    }
}
