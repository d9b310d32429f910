namespace DecodeAlign.Models.Onnx;

/// <summary>
/// A causal LM exported to ONNX in the Hugging Face Optimum / ONNX Runtime GenAI layout (input_ids, attention_mask,
/// optional position_ids, past_key_values.N.key/value → logits, present.N.key/value), fp32 or fp16, loaded from a
/// model folder or an .onnx file (external .onnx.data included). Layout, heads, head size, context length and special
/// tokens come from the graph and from genai_config.json / config.json when present.
/// </summary>
public sealed class OnnxCausalLm : ICausalLm
{
    private readonly OnnxDecoder _decoder;

    private OnnxCausalLm(OnnxDecoder decoder)
    {
        _decoder = decoder;
        Info = decoder.Layout.ToInfo();
    }

    /// <summary>Loads a model folder or .onnx file; throws <see cref="ModelLoadException"/> naming the file and what is wrong.</summary>
    public static OnnxCausalLm Load(string path, OnnxModelOptions? options = null)
    {
        var decoder = OnnxDecoder.Load(path, options);
        if (decoder.Layout.Head != DecoderOutputKind.Logits)
        {
            decoder.Dispose();
            throw new ModelLoadException(decoder.Layout.Source, $"is a decoder with a '{decoder.Layout.Output}' head, not a language model with 'logits'.");
        }
        return new OnnxCausalLm(decoder);
    }

    /// <inheritdoc />
    public DecoderInfo Info { get; }

    /// <summary>The KV-cache layout of the graph (layers, KV heads, head size, fp16 or fp32).</summary>
    public KvCacheShape KvShape => _decoder.Layout.KvShape;

    /// <inheritdoc />
    public IDecoderSession CreateSession() => new DecoderSession(_decoder);

    /// <inheritdoc />
    public void Dispose() => _decoder.Dispose();
}
