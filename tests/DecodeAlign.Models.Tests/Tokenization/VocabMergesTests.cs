using System.Text;
using System.Text.Json;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>The vocab.json + merges.txt pair, written to a temp folder by the test.</summary>
public sealed class VocabMergesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A byte-level vocabulary of the 256 alphabet characters plus a few merges, like a miniature GPT-2.</summary>
    private static Dictionary<string, int> WriteSmallPair(TempFolder temp)
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar((byte)b).ToString()] = b;
        string[] merges = ["Ġ t", "h e", "Ġt he", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"];
        foreach (var m in merges) vocab[m.Replace(" ", "")] = vocab.Count;
        vocab["<|endoftext|>"] = vocab.Count;
        temp.File("vocab.json", JsonSerializer.Serialize(vocab));
        temp.File("merges.txt", "#version: 0.2\n" + string.Join("\n", merges) + "\n");
        return vocab;
    }

    [Fact]
    public void SmallPairLoadsAndRoundTrips()
    {
        var vocab = WriteSmallPair(_temp);
        var t = TextTokenizer.Load(_temp.Path);
        Assert.Equal(Path.Combine(_temp.Path, "vocab.json"), t.Source);
        Assert.Equal(vocab.Count, t.VocabSize);
        Assert.False(t.AddBosToken);
        Assert.Equal([vocab["t"], vocab["he"], vocab["Ġthe"], vocab["Ġworld"]], t.Encode("the the world"));
        Assert.Equal(t.Encode("the world"), TextTokenizer.Load(Path.Combine(_temp.Path, "vocab.json")).Encode("the world"));
        foreach (var text in TokenizerAssert.HardTexts)
        {
            var ids = t.Encode(text);
            Assert.Equal(text, t.Decode(ids));
            TokenizerAssert.StreamAndCompare(t, ids, skipSpecialTokens: true);
        }
    }

    [Fact]
    public void TokenizerConfigBesideThePairSuppliesSpecialTokens()
    {
        var vocab = WriteSmallPair(_temp);
        _temp.File("tokenizer_config.json", """
            {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_prefix_space": false,
             "added_tokens_decoder": {"EOT": {"content": "<|endoftext|>", "special": true}}}
            """.Replace("EOT", vocab["<|endoftext|>"].ToString()));
        var t = TextTokenizer.Load(_temp.Path);
        int eot = vocab["<|endoftext|>"];
        Assert.Equal(eot, t.Special.Eos);
        Assert.Equal([vocab["Ġthe"], eot], t.Encode(" the<|endoftext|>"));
        Assert.Equal(" the", t.Decode([vocab["Ġthe"], eot]));
    }

    [Fact]
    public void BadMergesLineIsReportedWithItsLineNumber()
    {
        WriteSmallPair(_temp);
        _temp.File("merges.txt", "#version: 0.2\nĠ t\nnot-a-pair\n");
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(_temp.Path));
        Assert.Contains("merges.txt", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [SharedFact]
    public void Gpt2PairExtractedFromTokenizerJsonMatchesTokenizerJson()
    {
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(SharedModels.PathOf("gpt2-tokenizer", "tokenizer.json"))))
        {
            var lines = new StringBuilder("#version: 0.2\n");
            foreach (var merge in doc.RootElement.GetProperty("model").GetProperty("merges").EnumerateArray())
                lines.Append(merge.GetString()).Append('\n');
            _temp.File("merges.txt", lines.ToString());
        }
        File.Copy(SharedModels.PathOf("gpt2-tokenizer", "vocab.json"), Path.Combine(_temp.Path, "vocab.json"));

        var pair = TextTokenizer.Load(_temp.Path);
        var json = TextTokenizer.Load(SharedModels.PathOf("gpt2-tokenizer"));
        Assert.Equal([15496, 995], pair.Encode("Hello world"));
        foreach (var text in new[] { "The quick brown fox.", "héllo 你好 😀\ttab\nline", "don't stop-believing 1234" })
        {
            Assert.Equal(json.Encode(text), pair.Encode(text));
            Assert.Equal(text, pair.Decode(pair.Encode(text)));
        }
    }
}
