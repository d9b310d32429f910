using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Models.Tests;

/// <summary>Bad model files get specific errors naming the file and what was expected.</summary>
public sealed class ModelLoadErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("decodealign-models-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Missing_path_names_the_path()
    {
        var missing = Path.Combine(_dir, "nope");
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(missing));
        Assert.Contains(missing, ex.Message);
        Assert.Contains("no such file or folder", ex.Message);
    }

    [Fact]
    public void Folder_without_onnx_says_so()
    {
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(_dir));
        Assert.Contains("no model.onnx", ex.Message);
    }

    [Fact]
    public void Malformed_onnx_file_is_reported_with_its_path()
    {
        var file = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(file, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(_dir));
        Assert.Contains(file, ex.Message);
        Assert.Contains("could not load", ex.Message);
    }

    [Fact]
    public void Malformed_genai_config_is_reported_with_its_path()
    {
        File.WriteAllText(Path.Combine(_dir, "genai_config.json"), "{ \"model\": ");
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(_dir));
        Assert.Contains("genai_config.json", ex.Message);
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void Graph_without_a_kv_cache_names_the_missing_input()
    {
        var classifier = Path.Combine(SharedModels.RepoRoot, "tests", "fixtures", "tiny-classifier");
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(classifier));
        Assert.Contains("model.onnx", ex.Message);
        Assert.Contains("past_key_values.0.key", ex.Message);
        Assert.Contains("input_ids, attention_mask, token_type_ids", ex.Message);
    }

    [SharedFact]
    public void Cuda_provider_without_gpu_library_fails_clearly()
    {
        var ex = Assert.ThrowsAny<ModelException>(() => OnnxCausalLm.Load(SharedModels.PathOf("tiny-random-llama-fp16"), new OnnxModelOptions { Provider = ExecutionProvider.Cuda }));
        Assert.Contains("CUDA execution provider", ex.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", ex.Message);
    }

    [SharedFact]
    public void Missing_external_data_is_reported()
    {
        File.Copy(SharedModels.PathOf("tiny-random-llama-fp16", "model.onnx"), Path.Combine(_dir, "model.onnx"));
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(_dir));
        Assert.Contains("model.onnx", ex.Message);
    }
}
