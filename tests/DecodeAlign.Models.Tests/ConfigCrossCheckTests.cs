using System.Text.Json.Nodes;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Testing;

namespace DecodeAlign.Models.Tests;

/// <summary>
/// genai_config.json, config.json and the ONNX graph must describe one model; a disagreement names the file and field
/// (issue 11: a context_length of 100000 was believed over the trained 192, and a wrong vocab or eos passed silently).
/// </summary>
public sealed class ConfigCrossCheckTests : IDisposable
{
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("decodealign-config-").FullName, "lm");

    public ConfigCrossCheckTests()
    {
        Directory.CreateDirectory(_dir);
        foreach (var f in Directory.GetFiles(Path.Combine(SharedModels.RepoRoot, "models", "arith", "lm")))
            File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    private void Edit(string file, Action<JsonObject> edit)
    {
        var path = Path.Combine(_dir, file);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static JsonObject Model(JsonObject genai) => genai["model"]!.AsObject();

    private string LoadError() => Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(_dir).Dispose()).Message;

    [Fact]
    public void The_unchanged_model_loads()
    {
        using var lm = OnnxCausalLm.Load(_dir);
        Assert.Equal(192, lm.Info.ContextLength);
    }

    [Fact]
    public void A_context_longer_than_the_trained_one_is_refused()
    {
        Edit("genai_config.json", g => Model(g)["context_length"] = 100000);
        var m = LoadError();
        Assert.Contains("genai_config.json", m);
        Assert.Contains("model.context_length is 100000", m);
        Assert.Contains("192", m);
    }

    [Fact]
    public void A_shorter_context_is_a_deliberate_limit_and_loads()
    {
        Edit("genai_config.json", g => Model(g)["context_length"] = 64);
        using var lm = OnnxCausalLm.Load(_dir);
        Assert.Equal(64, lm.Info.ContextLength);
    }

    [Theory]
    [InlineData("vocab_size", 500, "vocab_size")]
    [InlineData("bos_token_id", 5, "bos_token_id")]
    [InlineData("eos_token_id", 7, "eos_token_id")]
    [InlineData("pad_token_id", 9, "pad_token_id")]
    public void Files_that_disagree_name_both_fields(string field, int value, string hfField)
    {
        Edit("genai_config.json", g => Model(g)[field] = value);
        var m = LoadError();
        Assert.Contains($"model.{field} is", m);
        Assert.Contains($"config.json's {hfField}", m);
    }

    [Fact]
    public void A_vocabulary_the_graph_does_not_have_is_refused_without_config_json()
    {
        File.Delete(Path.Combine(_dir, "config.json"));
        Edit("genai_config.json", g => Model(g)["vocab_size"] = 500);
        var m = LoadError();
        Assert.Contains("genai_config.json model.vocab_size is 500", m);
        Assert.Contains("465 columns in output 'logits'", m);
    }

    [Fact]
    public void A_stop_token_outside_the_vocabulary_is_refused()
    {
        File.Delete(Path.Combine(_dir, "config.json"));
        Edit("genai_config.json", g => Model(g)["eos_token_id"] = 9999);
        Assert.Contains("model.eos_token_id is 9999, outside the vocabulary of 465 tokens", LoadError());
    }

    [Theory]
    [InlineData("num_hidden_layers", 3, "4 layers")]
    [InlineData("num_key_value_heads", 2, "4 KV heads")]
    [InlineData("head_size", 16, "32 as the head size")]
    public void Shapes_the_graph_does_not_have_are_refused(string field, int value, string actual)
    {
        File.Delete(Path.Combine(_dir, "config.json"));
        Edit("genai_config.json", g => Model(g)["decoder"]![field] = value);
        var m = LoadError();
        Assert.Contains($"model.decoder.{field} is {value}", m);
        Assert.Contains(actual, m);
    }

    [Theory]
    [InlineData("\"192\"")]
    [InlineData("1.5")]
    [InlineData("-4")]
    [InlineData("1e30")]
    public void A_size_that_is_not_a_whole_number_is_refused(string raw)
    {
        var path = Path.Combine(_dir, "genai_config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"context_length\": 192", $"\"context_length\": {raw}"));
        var m = LoadError();
        Assert.Contains("model.context_length is", m);
        Assert.Contains("expected a whole number", m);
    }

    [Fact]
    public void A_config_that_is_not_an_object_is_refused()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), "[1, 2, 3]");
        Assert.Contains("holds no JSON object", LoadError());
    }
}
