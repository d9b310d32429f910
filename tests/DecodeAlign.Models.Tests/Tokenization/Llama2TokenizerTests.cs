using System.Diagnostics;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>The real Llama-2 tokenizer (SentencePiece-style BPE with byte fallback) in ../shared/models/tiny-random-llama-fp16.</summary>
public sealed class Llama2TokenizerTests
{
    private static readonly Lazy<TextTokenizer> Llama = new(() => TextTokenizer.Load(SharedModels.PathOf("tiny-random-llama-fp16")));

    [SharedFact]
    public void HelloWorldHasTheWellKnownIdsAfterBos()
    {
        Assert.Equal([1, 15043, 3186], Llama.Value.Encode("Hello world"));
        Assert.Equal([15043, 3186], Llama.Value.Encode("Hello world", addSpecialTokens: false));
        Assert.Equal("Hello world", Llama.Value.Decode([1, 15043, 3186]));
    }

    [SharedFact]
    public void SpecialTokensComeFromTheTokenizerFilesNotTheStaleGenaiConfig()
    {
        var t = Llama.Value;
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(1, t.Special.Bos);
        Assert.Equal(2, t.Special.Eos);
        Assert.Equal(0, t.Special.Unk);
        Assert.Equal(0, t.Special.Pad); // pad_token is <unk>
        Assert.Equal(new HashSet<int> { 0, 1, 2 }, t.Special.AllSpecialIds.ToHashSet());
        Assert.True(t.AddBosToken);
        Assert.False(t.AddEosToken);
        Assert.Equal("<0x0A>", t.IdToToken(13));
        Assert.Equal(29871, t.TokenToId("▁"));
    }

    [SharedFact]
    public void ByteFallbackSpellsUnknownCharactersAsUtf8Bytes()
    {
        var t = Llama.Value;
        // "▁" alone, then F0 9F 98 80 as <0xF0> <0x9F> <0x98> <0x80> (byte b has id b + 3).
        Assert.Equal([1, 29871, 243, 162, 155, 131], t.Encode("😀"));
        Assert.Equal([1, 29871, 13], t.Encode("\n"));
        Assert.Equal([1, 29871, 4], t.Encode("\u0001"));
        Assert.Equal("😀", t.Decode([1, 29871, 243, 162, 155, 131]));
    }

    [SharedFact]
    public void WhitespaceFollowsTheLegacyNormalizer()
    {
        var t = Llama.Value;
        var ids = t.Encode("a   b", addSpecialTokens: false);
        Assert.Equal("▁a▁▁▁b", string.Concat(ids.Select(id => t.IdToToken(id))));
        Assert.Equal("▁▁x", string.Concat(t.Encode(" x", addSpecialTokens: false).Select(id => t.IdToToken(id))));
        Assert.Equal(" x", t.Decode(t.Encode(" x")));
    }

    [SharedFact]
    public void SpecialTokensInTextAreRecognisedAndDecodedOnRequest()
    {
        var t = Llama.Value;
        Assert.Equal([1, 15043, 2], t.Encode("Hello</s>"));
        Assert.Equal("Hello", t.Decode([1, 15043, 2]));
        Assert.Equal("<s> Hello</s>", t.Decode([1, 15043, 2], skipSpecialTokens: false));
    }

    [SharedTheory]
    [MemberData(nameof(Texts))]
    public void RoundTripsTextAndStreamsIdentically(string text)
    {
        var t = Llama.Value;
        var ids = t.Encode(text);
        Assert.Equal(text, t.Decode(ids));
        Assert.Equal(text, TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: true));
        TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: false);
    }

    public static TheoryData<string> Texts() => [.. TokenizerAssert.HardTexts];

    [SharedFact]
    public void StreamingStripsOnlyTheVeryFirstSpace()
    {
        var stream = Llama.Value.CreateStreamingDetokenizer();
        Assert.Equal("", stream.Push(1));
        Assert.Equal("Hello", stream.Push(15043));
        Assert.Equal(" world", stream.Push(3186));
        Assert.Equal("", stream.Flush());
        // After Flush a new sequence starts, stripped again.
        Assert.Equal("world", stream.Push(3186));
    }

    [SharedFact]
    public void StreamingHoldsByteRunsUntilTheyEnd()
    {
        var stream = Llama.Value.CreateStreamingDetokenizer();
        Assert.Equal("Hello", stream.Push(15043));
        Assert.Equal(" ", stream.Push(29871));
        foreach (int id in new[] { 243, 162, 155, 131 }) Assert.Equal("", stream.Push(id));
        Assert.Equal("😀 world", stream.Push(3186));
    }

    [SharedFact]
    public void InvalidByteRunsBecomeOneReplacementPerByteLikeHf()
    {
        var t = Llama.Value;
        // <0xC3><0xA9> is "é"; followed by <0xFF> the whole run is invalid, and HF's ByteFallback replaces every byte.
        Assert.Equal("é", t.Decode([198, 172]));
        Assert.Equal("\uFFFD\uFFFD\uFFFD world", t.Decode([198, 172, 258, 3186]));
        TokenizerAssert.StreamAndCompare(t, [198, 172, 258, 3186], skipSpecialTokens: true);
    }

    [SharedFact]
    public void StreamingMatchesDecodeOnRandomIds()
    {
        var t = Llama.Value;
        var random = new Random(42);
        for (int round = 0; round < 300; round++)
        {
            // Bias towards byte tokens (ids 3..258) so multi-byte runs, valid and broken, are common.
            var ids = Enumerable.Range(0, random.Next(1, 30))
                .Select(_ => random.Next(3) == 0 ? random.Next(0, t.VocabSize + 2) : random.Next(3, 259)).ToArray();
            TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: true);
            TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: false);
        }
    }

    [SharedFact]
    public void AgreesWithANaiveTranscriptionOfHfBpe()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(SharedModels.PathOf("tiny-random-llama-fp16", "tokenizer.json")));
        var model = doc.RootElement.GetProperty("model");
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => (m[0].GetString()!, m[1].GetString()!)).ToList();
        var reference = new ReferenceBpe(vocab, merges, "<unk>", byteFallback: true);
        string[] extra = ["The quick brown fox jumps over the lazy dog.", "tokenization_spaces ▁already▁escaped", "¿Qué tal? Grüße aus Köln — naïve café"];
        foreach (var text in TokenizerAssert.HardTexts.Concat(extra).Concat(TokenizerAssert.RandomTexts(7, 300)))
            Assert.Equal(reference.EncodeWord(ReferenceBpe.LlamaNormalize(text)), Llama.Value.Encode(text, addSpecialTokens: false));
    }

    [SharedFact]
    public void EncodesConcurrentlyLikeSequentially()
    {
        var t = Llama.Value;
        var texts = TokenizerAssert.RandomTexts(3, 400).ToArray();
        var expected = texts.Select(x => t.Encode(x)).ToArray();
        var actual = new int[texts.Length][];
        Parallel.For(0, texts.Length, i => actual[i] = t.Encode(texts[i]));
        for (int i = 0; i < texts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    [SharedFact]
    public void LoadsAndEncodesQuickly()
    {
        var watch = Stopwatch.StartNew();
        var t = TextTokenizer.Load(SharedModels.PathOf("tiny-random-llama-fp16"));
        var load = watch.Elapsed;
        string text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. Ünïcödé 😀\n", 200));
        watch.Restart();
        var ids = t.Encode(text);
        Assert.Equal(text, t.Decode(ids));
        Assert.True(load < TimeSpan.FromSeconds(5), $"loading took {load}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"encoding {text.Length} chars took {watch.Elapsed}");
    }
}
