using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Benchmarks.Peers;

/// <summary>DecodeAlign's plain decoding (<see cref="SamplingStrategy"/>), as the CLI runs it: automatic thread count, CPU kernels.</summary>
internal sealed class DecodeAlignPeer : IPeerEngine
{
    private readonly LanguageModel _model;
    private readonly ITokenKernels _kernels = KernelBackends.Create(KernelBackendKind.Cpu);

    public DecodeAlignPeer(string onnxDir) => _model = LanguageModel.Load(onnxDir, OnnxModelOptions.Default);

    public string Name => "DecodeAlign";

    public string Settings => "--threads 0 (automatic)";

    /// <summary>The model's tokenizer, which the harness uses to turn the prompt text into the ids every engine gets.</summary>
    public LanguageModel Model => _model;

    public int[] Generate(int[] prompt, int batch, int newTokens, bool greedy, ulong seed)
    {
        var options = new GenerationOptions
        {
            MaxNewTokens = newTokens,
            IgnoreEos = true,
            Sampling = new SamplingParameters { Temperature = greedy ? 0f : 1f, Seed = seed },
        };
        var prompts = Enumerable.Repeat(prompt, batch).ToArray();
        var results = new SamplingStrategy(_model, _kernels, options).Decode(prompts);
        return results[0].Tokens.ToArray();
    }

    public void Dispose()
    {
        _kernels.Dispose();
        _model.Dispose();
    }
}
