using LLama;
using LLama.Common;
using LLama.Native;

namespace DecodeAlign.Benchmarks.Peers;

/// <summary>
/// LLamaSharp (llama.cpp) on the GGUF conversion of the same weights: one context per batch size with one KV stream
/// per row (not unified, so a row attends over its own cells only), F32 KV cache (the ONNX engines keep F32 too) without
/// flash attention, and
/// DecodeAlign's automatic thread rule (one thread under 32 MB of weights, else one per logical processor).
/// LLamaSharp returns logits; sampling is the plain full-vocabulary draw done here.
/// </summary>
internal sealed partial class LlamaSharpPeer : IPeerEngine
{
    private static bool _configured;
    private readonly string _gguf;
    private readonly int _contextPerRow;
    private readonly LLamaWeights _weights;
    private readonly Dictionary<int, LLamaContext> _contexts = [];
    private readonly int _threads;

    public LlamaSharpPeer(string gguf, int contextPerRow, long weightBytes)
    {
        ConfigureNative();
        _threads = weightBytes < 32L << 20 ? 1 : Environment.ProcessorCount;
        _gguf = gguf;
        _contextPerRow = contextPerRow;
        _weights = LLamaWeights.LoadFromFile(Parameters(1));
    }

    public string Name => "LLamaSharp";

    public string Settings => $"{_threads} thread(s), OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "passive"}, F32 KV cache, no flash attention, one KV stream per row";

    /// <summary>
    /// Before llama.cpp loads: its CPU backend is built with OpenMP, whose threads spin at barriers by default; on this
    /// shared 2-core machine a spinning thread that loses its core stalls every operator (stories260K fell from ~1,700
    /// to ~35 tok/s at 2 threads under load), so waits are passive unless the caller set OMP_WAIT_POLICY. The native
    /// environment must be set (libgomp reads it when loaded), not .NET's copy. llama.cpp's log goes to the null sink.
    /// </summary>
    private static void ConfigureNative()
    {
        if (_configured) return;
        _configured = true;
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null && OperatingSystem.IsLinux())
            SetEnv("OMP_WAIT_POLICY", "passive", 1);
        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    private ModelParams Parameters(int batch) => new(_gguf)
    {
        GpuLayerCount = 0,
        // llama.cpp rounds each row's context up to a multiple of 256.
        ContextSize = (uint)(batch * ((_contextPerRow + 255) / 256 * 256)),
        SeqMax = (uint)batch,
        KVUnified = false,
        BatchSize = (uint)(batch * _contextPerRow),
        UBatchSize = (uint)(batch * _contextPerRow),
        Threads = _threads,
        BatchThreads = _threads,
        TypeK = GGMLType.GGML_TYPE_F32,
        TypeV = GGMLType.GGML_TYPE_F32,
        // With an F32 cache, flash attention converts K/V every step (ggml_compute_forward_dup led the profile);
        // plain attention decoded stories260K twice as fast.
        FlashAttention = false,
    };

    public int[] Generate(int[] prompt, int batch, int newTokens, bool greedy, ulong seed)
    {
        if (!_contexts.TryGetValue(batch, out var context))
            _contexts[batch] = context = _weights.CreateContext(Parameters(batch));
        var ctx = context.NativeHandle;
        ctx.MemoryClear(true);
        var rng = new Random((int)(seed % int.MaxValue));
        var llBatch = new LLamaBatch();
        var logitIndex = new int[batch];
        for (var b = 0; b < batch; b++)
            for (var j = 0; j < prompt.Length; j++)
            {
                var i = llBatch.Add(prompt[j], j, (LLamaSeqId)b, j == prompt.Length - 1);
                if (j == prompt.Length - 1) logitIndex[b] = i;
            }
        Check(ctx.Decode(llBatch));
        var first = new int[newTokens];
        var next = new int[batch];
        for (var step = 0; step < newTokens; step++)
        {
            for (var b = 0; b < batch; b++)
                next[b] = PlainSample.Choose(ctx.GetLogitsIth(logitIndex[b]), greedy, rng);
            first[step] = next[0];
            if (step == newTokens - 1) break;
            llBatch.Clear();
            for (var b = 0; b < batch; b++)
                logitIndex[b] = llBatch.Add(next[b], prompt.Length + step, (LLamaSeqId)b, true);
            Check(ctx.Decode(llBatch));
        }
        return first;
    }

    private static void Check(DecodeResult r)
    {
        if (r != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {r}");
    }

    public void Dispose()
    {
        foreach (var c in _contexts.Values) c.Dispose();
        _weights.Dispose();
    }
}
