using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// Names, shapes and element types of a KV-cached decoder, discovered from the graph (Hugging Face Optimum /
/// ONNX Runtime GenAI naming) and completed from the config files where the graph leaves dimensions symbolic.
/// </summary>
internal sealed record DecoderLayout(
    string Source,
    string InputIds,
    string AttentionMask,
    string? PositionIds,
    bool IdsAreInt32,
    string Output,
    DecoderOutputKind Head,
    int VocabSize,
    int OutputWidth,
    bool OutputIsHalf,
    string[] PastKeys,
    string[] PastValues,
    string[] PresentKeys,
    string[] PresentValues,
    int NumKvHeads,
    int HeadSize,
    bool KvIsHalf,
    int ContextLength,
    int? BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId)
{
    public int NumLayers => PastKeys.Length;

    public int KvElementSize => KvIsHalf ? 2 : 4;

    public KvCacheShape KvShape => new(NumLayers, NumKvHeads, HeadSize, KvIsHalf);

    public DecoderInfo ToInfo() => new(Source, Head, VocabSize, OutputWidth, ContextLength, BosTokenId, EosTokenIds, PadTokenId)
    {
        Capabilities = DecoderCapabilities.Full,
    };

    /// <summary>
    /// This layout reading another output of the same graph, one value per position and vocabulary token
    /// ([batch, seq, vocab]), instead of its own; null when the graph has no output <paramref name="name"/>.
    /// </summary>
    public DecoderLayout? WithVocabularyOutput(InferenceSession session, string name)
    {
        if (!session.OutputMetadata.TryGetValue(name, out var meta)) return null;
        var dims = meta.Dimensions;
        if (dims.Length != 3 || (dims[2] > 0 && dims[2] != VocabSize))
            throw new ModelLoadException(Source, $"output '{name}' has shape [{string.Join(", ", dims)}]; expected [batch, seq, {VocabSize}].");
        RequireFloatOutput(Source, name, meta);
        return this with
        {
            Output = name,
            Head = DecoderOutputKind.Values,
            OutputWidth = VocabSize,
            OutputIsHalf = meta.ElementDataType == TensorElementType.Float16,
        };
    }

    private static void RequireFloatOutput(string source, string name, NodeMetadata meta)
    {
        if (meta.ElementDataType is not (TensorElementType.Float or TensorElementType.Float16))
            throw new ModelLoadException(source, $"output '{name}' has element type {meta.ElementDataType}; expected float32 or float16.");
    }

    /// <summary>
    /// The config files must describe the graph they sit beside: a config copied from another model would give the
    /// wrong vocabulary, KV shapes or stop tokens, and be believed wherever the graph leaves a dimension symbolic.
    /// </summary>
    private static void CheckAgainstGraph(string source, ModelConfigFiles config, int layers, NodeMetadata kvMeta, string kvName, (string Name, int Width)? logits, int vocab)
    {
        void Same(int? declared, int actual, string genaiField, string hfField, string what)
        {
            if (declared is int d && d != actual)
                throw new ModelLoadException(source, $"{config.Origin(genaiField, hfField)} is {d} but the graph has {actual} {what}; the config does not describe this model.");
        }
        Same(config.NumLayers, layers, "model.decoder.num_hidden_layers", "num_hidden_layers", "layers (past_key_values inputs)");
        if (kvMeta.Dimensions[1] > 0) Same(config.NumKvHeads, kvMeta.Dimensions[1], "model.decoder.num_key_value_heads", "num_key_value_heads", $"KV heads in '{kvName}'");
        if (kvMeta.Dimensions[3] > 0) Same(config.HeadSize, kvMeta.Dimensions[3], "model.decoder.head_size", "head_dim", $"as the head size of '{kvName}'");
        if (logits is var (name, width)) Same(config.VocabSize, width, "model.vocab_size", "vocab_size", $"columns in output '{name}'");
        foreach (var (id, field) in config.EosTokenIds.Select(e => ((int?)e, "eos_token_id")).Append((config.BosTokenId, "bos_token_id")).Append((config.PadTokenId, "pad_token_id")))
            if (id is int t && t >= vocab)
                throw new ModelLoadException(source, $"{config.Origin("model." + field, field)} is {t}, outside the vocabulary of {vocab} tokens.");
    }

    public static DecoderLayout Discover(InferenceSession session, string source, ModelConfigFiles config, OnnxModelOptions options)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        string Describe(IEnumerable<string> names) => string.Join(", ", names);

        string RequireInput(string name)
        {
            if (!inputs.ContainsKey(name))
                throw new ModelLoadException(source, $"the graph has no input '{name}' (a KV-cached decoder needs input_ids, attention_mask and past_key_values.N.key/value; inputs are: {Describe(inputs.Keys)}).");
            return name;
        }

        var inputIds = RequireInput(config.DecoderName("inputs", "input_ids") ?? "input_ids");
        var mask = RequireInput(config.DecoderName("inputs", "attention_mask") ?? "attention_mask");
        var posName = config.DecoderName("inputs", "position_ids") ?? "position_ids";
        var positions = inputs.ContainsKey(posName) ? posName : null;
        var idType = inputs[inputIds].ElementDataType;
        if (idType is not (TensorElementType.Int64 or TensorElementType.Int32))
            throw new ModelLoadException(source, $"input '{inputIds}' has element type {idType}; expected int64 or int32.");

        var pastKeyTemplate = config.DecoderName("inputs", "past_key_names") ?? "past_key_values.%d.key";
        var pastValueTemplate = config.DecoderName("inputs", "past_value_names") ?? "past_key_values.%d.value";
        var presentKeyTemplate = config.DecoderName("outputs", "present_key_names") ?? "present.%d.key";
        var presentValueTemplate = config.DecoderName("outputs", "present_value_names") ?? "present.%d.value";
        var layers = 0;
        while (inputs.ContainsKey(pastKeyTemplate.Replace("%d", layers.ToString()))) layers++;
        if (layers == 0)
            throw new ModelLoadException(source, $"the graph has no KV-cache input '{pastKeyTemplate.Replace("%d", "0")}' (inputs are: {Describe(inputs.Keys)}); DecodeAlign needs a decoder exported with past_key_values (e.g. Optimum's 'text-generation-with-past').");
        string[] Names(string template, IReadOnlyDictionary<string, NodeMetadata> where, string kind)
        {
            var names = Enumerable.Range(0, layers).Select(i => template.Replace("%d", i.ToString())).ToArray();
            foreach (var n in names)
                if (!where.ContainsKey(n))
                    throw new ModelLoadException(source, $"the graph has {layers} past key inputs but no {kind} '{n}'.");
            return names;
        }
        var pastKeys = Names(pastKeyTemplate, inputs, "input");
        var pastValues = Names(pastValueTemplate, inputs, "input");
        var presentKeys = Names(presentKeyTemplate, outputs, "output");
        var presentValues = Names(presentValueTemplate, outputs, "output");

        var kvMeta = inputs[pastKeys[0]];
        if (kvMeta.ElementDataType is not (TensorElementType.Float or TensorElementType.Float16))
            throw new ModelLoadException(source, $"KV-cache input '{pastKeys[0]}' has element type {kvMeta.ElementDataType}; expected float32 or float16.");
        if (kvMeta.Dimensions.Length != 4)
            throw new ModelLoadException(source, $"KV-cache input '{pastKeys[0]}' has rank {kvMeta.Dimensions.Length}; expected [batch, kv_heads, past_length, head_size].");
        var kvHeads = kvMeta.Dimensions[1] > 0 ? kvMeta.Dimensions[1] : config.NumKvHeads
            ?? throw new ModelLoadException(source, $"the number of KV heads is symbolic in '{pastKeys[0]}' and no genai_config.json/config.json gives it.");
        var headSize = kvMeta.Dimensions[3] > 0 ? kvMeta.Dimensions[3] : config.HeadSize
            ?? throw new ModelLoadException(source, $"the head size is symbolic in '{pastKeys[0]}' and no genai_config.json/config.json gives it.");

        var (outName, head) = config.Head switch
        {
            "score" => ("scores", DecoderOutputKind.Scores),
            "value" => ("values", DecoderOutputKind.Values),
            _ when outputs.ContainsKey(config.DecoderName("outputs", "logits") ?? "logits") => (config.DecoderName("outputs", "logits") ?? "logits", DecoderOutputKind.Logits),
            _ when outputs.ContainsKey("scores") => ("scores", DecoderOutputKind.Scores),
            _ when outputs.ContainsKey("values") => ("values", DecoderOutputKind.Values),
            _ => (config.DecoderName("outputs", "logits") ?? "logits", DecoderOutputKind.Logits),
        };
        if (!outputs.TryGetValue(outName, out var outMeta))
            throw new ModelLoadException(source, $"the graph has no output '{outName}' (outputs are: {Describe(outputs.Keys)}).");
        RequireFloatOutput(source, outName, outMeta);
        int width;
        if (head == DecoderOutputKind.Scores)
        {
            if (outMeta.Dimensions.Length is not (2 or 3))
                throw new ModelLoadException(source, $"output '{outName}' has rank {outMeta.Dimensions.Length}; expected [batch, seq] scores.");
            width = 1;
        }
        else
        {
            if (outMeta.Dimensions.Length != 3)
                throw new ModelLoadException(source, $"output '{outName}' has rank {outMeta.Dimensions.Length}; expected [batch, seq, vocab].");
            width = outMeta.Dimensions[2] > 0 ? outMeta.Dimensions[2] : config.VocabSize
                ?? throw new ModelLoadException(source, $"the vocabulary size is symbolic in output '{outName}' and no genai_config.json/config.json gives it.");
        }

        var vocab = head == DecoderOutputKind.Scores
            ? config.VocabSize ?? throw new ModelLoadException(source, "is a scoring decoder but no genai_config.json/config.json gives its vocabulary size.")
            : width;
        var context = options.ContextLength > 0 ? options.ContextLength : config.ContextLength ?? int.MaxValue;
        CheckAgainstGraph(source, config, layers, kvMeta, pastKeys[0], head == DecoderOutputKind.Scores ? null : (outName, width), vocab);
        return new DecoderLayout(source, inputIds, mask, positions, idType == TensorElementType.Int32, outName, head, vocab, width,
            outMeta.ElementDataType == TensorElementType.Float16, pastKeys, pastValues, presentKeys, presentValues,
            kvHeads, headSize, kvMeta.ElementDataType == TensorElementType.Float16, context,
            config.BosTokenId, config.EosTokenIds, config.PadTokenId);
    }
}
