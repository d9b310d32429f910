using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Models;

/// <summary>
/// Loads causal LMs, reward models, prefix scorers and value models from a path and picks the backend that serves
/// it: ONNX Runtime for every file and folder today. The choice is made in one place (<c>BackendFor</c>), where
/// another backend (e.g. a server returning top-k log-probabilities over HTTP) registers the paths it serves.
/// Errors are the backend's own (for ONNX, a <see cref="ModelLoadException"/> naming the file and what is wrong).
/// </summary>
public static class ModelLoader
{
    /// <summary>The backends a model can be loaded with.</summary>
    private enum Backend
    {
        Onnx,
    }

    /// <summary>The backend serving <paramref name="path"/>: ONNX for everything until another backend claims some paths here.</summary>
    private static Backend BackendFor(string path) => Backend.Onnx;

    /// <summary>Loads a causal LM (a decoder with a <c>logits</c> head) from a model folder or .onnx file.</summary>
    public static ICausalLm LoadCausalLm(string path, OnnxModelOptions? options = null) => BackendFor(path) switch
    {
        Backend.Onnx => OnnxCausalLm.Load(path, options),
        var other => throw Unsupported(other, path),
    };

    /// <summary>
    /// Loads a learned reward model from a folder holding a scoring decoder and its tokenizer; it also scores prefixes
    /// in the LM's token space (it is an <see cref="IPrefixScorer"/>, see <see cref="LoadPrefixScorer"/>).
    /// </summary>
    public static IRewardModel LoadRewardModel(string folder, RewardModelOptions? options = null) => LoadDecoderReward(folder, options);

    /// <summary>Loads a prefix scorer (a decoder with one score per position) from a folder holding it and its tokenizer.</summary>
    public static IPrefixScorer LoadPrefixScorer(string folder, RewardModelOptions? options = null) => LoadDecoderReward(folder, options);

    /// <summary>Loads a value model (a decoder with a <c>values</c> or <c>scores</c> head) from a model folder or .onnx file.</summary>
    public static IValueModel LoadValueModel(string path, OnnxModelOptions? options = null) => BackendFor(path) switch
    {
        Backend.Onnx => OnnxValueModel.Load(path, options),
        var other => throw Unsupported(other, path),
    };

    private static OnnxDecoderRewardModel LoadDecoderReward(string folder, RewardModelOptions? options) => BackendFor(folder) switch
    {
        Backend.Onnx => OnnxDecoderRewardModel.Load(folder, options),
        var other => throw Unsupported(other, folder),
    };

    private static ModelLoadException Unsupported(Backend backend, string path) =>
        new(path, $"the {backend} backend cannot load this kind of model.");
}
