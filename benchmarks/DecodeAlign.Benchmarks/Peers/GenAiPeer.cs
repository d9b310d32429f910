using Microsoft.ML.OnnxRuntimeGenAI;

namespace DecodeAlign.Benchmarks.Peers;

/// <summary>ONNX Runtime GenAI on the same ONNX folder, through its genai_config.json and default session options.</summary>
internal sealed class GenAiPeer(string onnxDir) : IPeerEngine
{
    private readonly Model _model = new(onnxDir);

    public string Name => "ORT GenAI";

    /// <summary>GenAI 0.18 refuses a static batch over 32 ("batch_size (64) must be in [1, 32]"); larger batches run as consecutive chunks.</summary>
    public const int MaxBatch = 32;

    public string Settings => $"genai_config defaults (ONNX Runtime's default intra-op threads); batches over {MaxBatch} run as consecutive batches of {MaxBatch}";

    public int[] Generate(int[] prompt, int batch, int newTokens, bool greedy, ulong seed)
    {
        var first = Chunk(prompt, Math.Min(batch, MaxBatch), newTokens, greedy, seed);
        for (var done = MaxBatch; done < batch; done += MaxBatch)
            Chunk(prompt, Math.Min(batch - done, MaxBatch), newTokens, greedy, seed + (ulong)done);
        return first;
    }

    private int[] Chunk(int[] prompt, int batch, int newTokens, bool greedy, ulong seed)
    {
        var length = prompt.Length + newTokens;
        using var p = new GeneratorParams(_model);
        p.SetSearchOption("batch_size", batch);
        p.SetSearchOption("max_length", length);
        // min_length masks EOS until the end, so every row decodes the same fixed number of tokens.
        p.SetSearchOption("min_length", length);
        p.SetSearchOption("do_sample", !greedy);
        if (!greedy)
        {
            // Plain ancestral sampling over the full vocabulary (no top-k / top-p cut), as DecodeAlign's defaults.
            p.SetSearchOption("temperature", 1.0);
            p.SetSearchOption("top_k", 0);
            p.SetSearchOption("top_p", 1.0);
            p.SetSearchOption("random_seed", (double)(seed % int.MaxValue));
        }
        using var g = new Generator(_model, p);
        var ids = new int[batch * prompt.Length];
        for (var b = 0; b < batch; b++) prompt.CopyTo(ids, b * prompt.Length);
        g.AppendTokens(ids);
        while (!g.IsDone()) g.GenerateNextToken();
        return g.GetSequence(0)[prompt.Length..].ToArray();
    }

    public void Dispose() => _model.Dispose();
}
