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

    private readonly int _threads;
    private readonly bool _spinning;

    public DecodeAlignPeer(string onnxDir, int threads, bool spinning = false)
    {
        _threads = threads;
        _spinning = spinning;
        _model = LanguageModel.Load(onnxDir, new OnnxModelOptions { IntraOpThreads = threads, AllowSpinning = spinning });
    }

    public string Name => _spinning ? "DecodeAlign (spinning)" : "DecodeAlign";

    public string Settings => (_threads == 0 ? "--threads 0 (automatic)" : $"--threads {_threads}") + (_spinning ? ", ONNX Runtime threads spin" : "");

    /// <summary>The model's tokenizer, which the harness uses to turn the prompt text into the ids every engine gets.</summary>
    public LanguageModel Model => _model;

    /// <summary>Per batch size, decode time spent outside ONNX Runtime (our own per-step cost), summed over calls.</summary>
    public Dictionary<int, TimeSpan> OutsideRuntime { get; } = [];

    /// <summary>Per batch size, the decodes' wall time, summed over calls.</summary>
    public Dictionary<int, TimeSpan> Wall { get; } = [];

    /// <summary>Forgets the warm-up calls' timers at one batch size (their first steps include JIT compilation).</summary>
    public void ResetTimers(int batch)
    {
        OutsideRuntime.Remove(batch);
        Wall.Remove(batch);
    }

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
        var c = results[0].Trace.Compute;
        OutsideRuntime[batch] = OutsideRuntime.GetValueOrDefault(batch) + (c.WallTime - c.ModelTime);
        Wall[batch] = Wall.GetValueOrDefault(batch) + c.WallTime;
        return results[0].Tokens.ToArray();
    }

    public void Dispose()
    {
        _kernels.Dispose();
        _model.Dispose();
    }
}
