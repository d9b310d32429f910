using System.Text.Json.Nodes;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>Bad tokenizer input gets a <see cref="ModelLoadException"/> naming the file and what is wrong.</summary>
public sealed class TokenizerLoadErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private ModelLoadException LoadFails(string path)
    {
        var e = Assert.Throws<ModelLoadException>(() => TextTokenizer.Load(path));
        Assert.StartsWith(e.Path, e.Message);
        return e;
    }

    private string WriteJson(string name, string json) => _temp.File(name, json);

    [Fact]
    public void MissingPath()
    {
        string path = Path.Combine(_temp.Path, "nope");
        var e = LoadFails(path);
        Assert.Equal(path, e.Path);
        Assert.Contains("no such tokenizer file or folder", e.Message);
    }

    [Fact]
    public void EmptyFolder()
    {
        var e = LoadFails(_temp.Path);
        Assert.Contains("no tokenizer.json and no vocab.json + merges.txt", e.Message);
    }

    [Fact]
    public void VocabWithoutMerges()
    {
        WriteJson("vocab.json", """{"a": 0}""");
        var e = LoadFails(_temp.Path);
        Assert.Contains("merges.txt is missing", e.Message);
    }

    [Fact]
    public void MalformedJson()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0,, }""");
        var e = LoadFails(path);
        Assert.Equal(path, e.Path);
        Assert.Contains("malformed JSON", e.Message);
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    [InlineData("WordLevel")]
    public void UnsupportedModelType(string type)
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "TYPE", "vocab": {"a": 0}}}""".Replace("TYPE", type));
        var e = LoadFails(path);
        Assert.Contains($"model type \"{type}\" is not supported", e.Message);
    }

    [Fact]
    public void MissingModel()
    {
        string path = WriteJson("tokenizer.json", """{"version": "1.0"}""");
        Assert.Contains("\"model\" is missing", LoadFails(path).Message);
    }

    [Fact]
    public void MissingVocab()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "merges": []}}""");
        Assert.Contains("\"model.vocab\" is missing", LoadFails(path).Message);
    }

    [Fact]
    public void VocabOfTheWrongShape()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "vocab": [["a", 0.0]], "merges": []}}""");
        Assert.Contains("\"model.vocab\" must be a JSON object, not array", LoadFails(path).Message);
    }

    [Fact]
    public void MissingMerges()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0}}}""");
        Assert.Contains("\"model.merges\" is missing", LoadFails(path).Message);
    }

    [Fact]
    public void MalformedMerge()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", ["a"]]}}""");
        Assert.Contains("\"model.merges[1]\"", LoadFails(path).Message);
    }

    [Fact]
    public void MergeOfATokenOutsideTheVocabulary()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a c"]}}""");
        var e = LoadFails(path);
        Assert.Contains("rejected", e.Message);
    }

    [Fact]
    public void IgnoreMergesIsRefused()
    {
        string path = WriteJson("tokenizer.json", """{"model": {"type": "BPE", "ignore_merges": true, "vocab": {"a": 0}, "merges": []}}""");
        Assert.Contains("ignore_merges", LoadFails(path).Message);
    }

    [Fact]
    public void UnsupportedPreTokenizer()
    {
        string path = WriteJson("tokenizer.json", """{"pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""");
        Assert.Contains("pre-tokenizer \"BertPreTokenizer\"", LoadFails(path).Message);
    }

    [Fact]
    public void UnsupportedNormalizer()
    {
        string path = WriteJson("tokenizer.json", """{"normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""");
        Assert.Contains("normalizer \"Precompiled\" is not supported", LoadFails(path).Message);
    }

    [Fact]
    public void UnsupportedDecoder()
    {
        string path = WriteJson("tokenizer.json", """{"decoder": {"type": "WordPiece", "prefix": "##"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""");
        Assert.Contains("decoder \"WordPiece\" is not supported", LoadFails(path).Message);
    }

    [Fact]
    public void MalformedTokenizerConfigIsNamed()
    {
        SyntheticLlamaTokenizer.Write(_temp.Path, false, false);
        string config = WriteJson("tokenizer_config.json", "{ not json");
        var e = LoadFails(_temp.Path);
        Assert.Equal(config, e.Path);
        Assert.Contains("malformed JSON", e.Message);
    }

    [Fact]
    public void BadSpecialTokenSpellingIsNamed()
    {
        SyntheticLlamaTokenizer.Write(_temp.Path, false, false);
        WriteJson("special_tokens_map.json", """{"bos_token": 5}""");
        var e = LoadFails(_temp.Path);
        Assert.Contains("special_tokens_map.json", e.Message);
        Assert.Contains("\"bos_token\"", e.Message);
    }
}
