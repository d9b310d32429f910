using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// A value model exported as a KV-cached decoder: with a <c>values</c> head [batch, seq, vocab] (V(s, a) for every
/// next token at once) or a <c>scores</c> head (V(s, a) = score of s extended by a).
/// </summary>
public sealed class OnnxValueModel : IValueModel
{
    private readonly OnnxDecoder _decoder;

    private OnnxValueModel(OnnxDecoder decoder)
    {
        _decoder = decoder;
        Info = decoder.Layout.ToInfo();
    }

    /// <summary>Loads a folder or .onnx file holding a value decoder.</summary>
    public static OnnxValueModel Load(string path, OnnxModelOptions? options = null)
    {
        var decoder = OnnxDecoder.Load(path, options);
        if (decoder.Layout.Head == DecoderOutputKind.Logits)
        {
            decoder.Dispose();
            throw new ModelLoadException(decoder.Layout.Source, "has a 'logits' output; a value model needs a 'values' [batch, seq, vocab] or 'scores' [batch, seq] output.");
        }
        return new OnnxValueModel(decoder);
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
