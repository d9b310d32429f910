using System.Text.Json.Nodes;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>The tok512-style Llama-2 layout the llama2.c importer writes, in every accepted spelling.</summary>
public sealed class SyntheticLlamaLayoutTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly string[] Texts =
    [
        "Hello the world and the rest",
        "Once upon a time, there was a little girl named Lily.",
        "héllo 你好 😀 tab\there\nnew line",
        "a   b    c",
        "x\u0001y",
        "",
    ];

    private TextTokenizer Load(string name, bool arrayMerges, bool metaspace, JsonNode? decoder = null, JsonNode? postProcessor = null)
    {
        string dir = Path.Combine(_temp.Path, name);
        SyntheticLlamaTokenizer.Write(dir, arrayMerges, metaspace, decoder, postProcessor);
        return TextTokenizer.Load(dir);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void EveryMergeAndNormalizerSpellingEncodesLikeHfBpe(bool arrayMerges, bool metaspace)
    {
        var t = Load($"v{arrayMerges}{metaspace}", arrayMerges, metaspace);
        Assert.Equal(512, t.VocabSize);
        Assert.Equal(0, t.Special.Unk);
        Assert.Equal(3, t.TokenToId("<0x00>"));
        Assert.Equal(258, t.TokenToId("<0xFF>"));

        var (vocab, merges) = SyntheticLlamaTokenizer.Build();
        var reference = new ReferenceBpe(vocab, merges, "<unk>", byteFallback: true);
        foreach (var text in Texts.Concat(TokenizerAssert.RandomTexts(11, 200)))
        {
            string normalized = metaspace ? ReferenceBpe.MetaspaceNormalize(text) : ReferenceBpe.LlamaNormalize(text);
            Assert.Equal(reference.EncodeWord(normalized), t.Encode(text, addSpecialTokens: false));
            // As in HF, a literal "▁" decodes as a space, and Metaspace does not double a leading space, so the
            // decoder's strip eats it: those texts do not round-trip.
            if (!text.Contains('\u2581') && !(metaspace && text.StartsWith(' '))) Assert.Equal(text, t.Decode(t.Encode(text)));
            TokenizerAssert.StreamAndCompare(t, t.Encode(text), skipSpecialTokens: true);
        }
        Assert.Equal([vocab["▁the"]], t.Encode("the", addSpecialTokens: false));
        Assert.Equal([vocab["▁"], 3 + 0xC2, 3 + 0xA0], t.Encode("\u00a0", addSpecialTokens: false));
    }

    [Fact]
    public void MetaspaceDoesNotDoubleALeadingSpaceButTheLegacyNormalizerDoes()
    {
        var legacy = Load("legacy", arrayMerges: false, metaspace: false);
        var meta = Load("meta", arrayMerges: false, metaspace: true);
        Assert.Equal("▁▁x", string.Concat(legacy.Encode(" x", false).Select(id => legacy.IdToToken(id))));
        Assert.Equal("▁x", string.Concat(meta.Encode(" x", false).Select(id => meta.IdToToken(id))));
        // "first": only the piece at the start of the text gets the prefix, not the text after a special token.
        Assert.Equal("▁a</s>b", string.Concat(meta.Encode("a</s>b", false).Select(id => meta.IdToToken(id))));
        Assert.Equal("▁a</s>▁b", string.Concat(legacy.Encode("a</s>b", false).Select(id => legacy.IdToToken(id))));
    }

    [Fact]
    public void BosComesFromThePostProcessorOrTheTokenizerConfig()
    {
        var none = Load("none", false, false);
        Assert.False(none.AddBosToken);
        Assert.Equal([], none.Encode(""));

        var template = JsonNode.Parse("""{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}}""");
        var withTemplate = Load("template", false, false, postProcessor: template);
        Assert.True(withTemplate.AddBosToken);
        Assert.Equal(1, withTemplate.Encode("the")[0]);

        string dir = Path.Combine(_temp.Path, "config");
        SyntheticLlamaTokenizer.Write(dir, false, false);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"add_bos_token": true, "add_eos_token": true, "bos_token": "<s>", "eos_token": {"content": "</s>"}, "unk_token": "<unk>"}""");
        var withConfig = TextTokenizer.Load(dir);
        Assert.True(withConfig.AddBosToken);
        Assert.True(withConfig.AddEosToken);
        Assert.Equal(1, withConfig.Special.Bos);
        Assert.Equal(2, withConfig.Special.Eos);
        var ids = withConfig.Encode("the");
        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids[^1]);
    }

    [Fact]
    public void ModelConfigIdsFillRolesTheTokenizerFilesLeaveOpen()
    {
        string dir = Path.Combine(_temp.Path, "cfg");
        SyntheticLlamaTokenizer.Write(dir, false, false);
        File.WriteAllText(Path.Combine(dir, "config.json"), """{"bos_token_id": 1, "eos_token_id": [2, 0], "pad_token_id": 0}""");
        var t = TextTokenizer.Load(dir);
        Assert.Equal(1, t.Special.Bos);
        Assert.Equal(2, t.Special.Eos);
        Assert.Equal(0, t.Special.Pad);
    }

    [Fact]
    public void MetaspaceDecoderDropsTheFirstTokensMarker()
    {
        var decoder = JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}""");
        var t = Load("metadec", false, true, decoder);
        var ids = t.Encode("the world", addSpecialTokens: false);
        Assert.Equal("the world", t.Decode(ids));
        TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: true);
        // Without ByteFallback in the chain HF leaves byte tokens as written.
        Assert.Equal("<0x41>", t.Decode([3 + 0x41]));
    }
}
