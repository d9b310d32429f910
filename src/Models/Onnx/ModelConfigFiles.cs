using System.Text.Json;
using System.Text.Json.Nodes;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// The optional JSON files beside a model (<c>genai_config.json</c> as ONNX Runtime GenAI writes it,
/// <c>config.json</c> as Hugging Face writes it), read once; values missing from both stay null.
/// </summary>
internal sealed class ModelConfigFiles
{
    private readonly JsonNode? _genai;
    private readonly JsonNode? _hf;

    private readonly string _folder;

    private ModelConfigFiles(string folder, JsonNode? genai, JsonNode? hf)
    {
        _folder = folder;
        _genai = genai;
        _hf = hf;
    }

    /// <summary>Reads both files and checks that they agree (<see cref="CrossCheck"/>).</summary>
    public static ModelConfigFiles Read(string folder)
    {
        var files = new ModelConfigFiles(folder, ReadJson(Path.Combine(folder, "genai_config.json")), ReadJson(Path.Combine(folder, "config.json")));
        CheckNumbers(Path.Combine(folder, "genai_config.json"), files._genai,
            ["model.context_length", "model.vocab_size", "model.decoder.head_size", "model.decoder.hidden_size", "model.decoder.num_attention_heads",
             "model.decoder.num_hidden_layers", "model.decoder.num_key_value_heads"],
            ["model.bos_token_id", "model.eos_token_id", "model.pad_token_id"]);
        CheckNumbers(Path.Combine(folder, "config.json"), files._hf,
            ["max_position_embeddings", "n_positions", "vocab_size", "hidden_size", "num_attention_heads", "num_hidden_layers", "num_key_value_heads", "head_dim"],
            ["bos_token_id", "eos_token_id", "pad_token_id"]);
        files.CrossCheck();
        return files;
    }

    /// <summary>
    /// Where both files give a value they must agree: they describe one model, so a disagreement means one of them was
    /// edited or belongs to another model, and believing either could run past the trained context or stop on the
    /// wrong token. genai_config.json may give a shorter context than config.json (a deliberate limit), never a longer one.
    /// </summary>
    private void CrossCheck()
    {
        if (_genai is null || _hf is null) return;
        var genaiFile = Path.Combine(_folder, "genai_config.json");
        void Same(string genaiField, JsonNode? genaiValue, string hfField, JsonNode? hfValue)
        {
            if (Int(genaiValue) is int g && Int(hfValue) is int h && g != h)
                throw new ModelLoadException(genaiFile, $"{genaiField} is {g} but config.json's {hfField} is {h}; the two files must describe the same model.");
        }
        if (Int(Get(GenAiModel, "context_length")) is int ctx && (Int(Get(_hf, "max_position_embeddings")) ?? Int(Get(_hf, "n_positions"))) is int trained && ctx > trained)
            throw new ModelLoadException(genaiFile, $"model.context_length is {ctx} but config.json says the model was trained on {trained} positions (max_position_embeddings); positions past {trained} were never trained.");
        Same("model.vocab_size", Get(GenAiModel, "vocab_size"), "vocab_size", Get(_hf, "vocab_size"));
        Same("model.bos_token_id", Get(GenAiModel, "bos_token_id"), "bos_token_id", Get(_hf, "bos_token_id"));
        Same("model.pad_token_id", Get(GenAiModel, "pad_token_id"), "pad_token_id", Get(_hf, "pad_token_id"));
        Same("model.decoder.num_hidden_layers", Get(GenAiDecoder, "num_hidden_layers"), "num_hidden_layers", Get(_hf, "num_hidden_layers"));
        Same("model.decoder.num_attention_heads", Get(GenAiDecoder, "num_attention_heads"), "num_attention_heads", Get(_hf, "num_attention_heads"));
        Same("model.decoder.num_key_value_heads", Get(GenAiDecoder, "num_key_value_heads"), "num_key_value_heads", Get(_hf, "num_key_value_heads"));
        Same("model.decoder.hidden_size", Get(GenAiDecoder, "hidden_size"), "hidden_size", Get(_hf, "hidden_size"));
        if (Ints(Get(GenAiModel, "eos_token_id")) is { Count: > 0 } ge && Ints(Get(_hf, "eos_token_id")) is { Count: > 0 } he && !ge.Order().SequenceEqual(he.Order()))
            throw new ModelLoadException(genaiFile, $"model.eos_token_id is [{string.Join(", ", ge)}] but config.json's eos_token_id is [{string.Join(", ", he)}]; the two files must describe the same model.");
    }

    /// <summary>The file and field a value was read from, for error messages: genai_config.json first, as it is read first.</summary>
    public string Origin(string genaiField, string hfField) =>
        Pick(_genai, genaiField) is not null ? $"genai_config.json {genaiField}" : Pick(_hf, hfField) is not null ? $"config.json {hfField}" : "the model config";

    /// <summary>The number of decoder layers the config declares, if any.</summary>
    public int? NumLayers => Int(Get(GenAiDecoder, "num_hidden_layers")) ?? Int(Get(_hf, "num_hidden_layers")) ?? Int(Get(_hf, "n_layer"));

    private static JsonNode? Pick(JsonNode? root, string dotted)
    {
        var node = root;
        foreach (var part in dotted.Split('.')) node = Get(node, part);
        return node;
    }

    /// <summary>A field of an object, or null when the node is missing or not an object (a hand-edited file may hold anything).</summary>
    private static JsonNode? Get(JsonNode? node, string key) => node is JsonObject o && o.TryGetPropertyValue(key, out var v) ? v : null;

    private static JsonNode? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip })
                as JsonObject ?? throw new ModelLoadException(path, "holds no JSON object; expected { ... } with the model's settings.");
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException(path, $"is not valid JSON ({ex.Message}).", ex);
        }
    }

    private JsonNode? GenAiModel => Get(_genai, "model");
    private JsonNode? GenAiDecoder => Get(GenAiModel, "decoder");

    /// <summary>The ONNX file named by genai_config.json, if any.</summary>
    public string? DecoderFileName => Str(Get(GenAiDecoder, "filename"));

    /// <summary>The output head declared by DecodeAlign's exporter: lm, score or value.</summary>
    public string? Head => Str(Get(Get(_genai, "decodealign"), "head")) ?? Str(Get(Get(_hf, "decodealign"), "head"));

    public int? ContextLength => Int(Get(GenAiModel, "context_length")) ?? Int(Get(_hf, "max_position_embeddings")) ?? Int(Get(_hf, "n_positions"));
    public int? VocabSize => Int(Get(GenAiModel, "vocab_size")) ?? Int(Get(_hf, "vocab_size"));
    public int? NumKvHeads => Int(Get(GenAiDecoder, "num_key_value_heads")) ?? Int(Get(_hf, "num_key_value_heads")) ?? Int(Get(_hf, "num_attention_heads")) ?? Int(Get(_hf, "n_head"));
    public int? HeadSize => Int(Get(GenAiDecoder, "head_size")) ?? HfHeadSize();
    public int? BosTokenId => Int(Get(GenAiModel, "bos_token_id")) ?? Int(Get(_hf, "bos_token_id"));
    public int? PadTokenId => Int(Get(GenAiModel, "pad_token_id")) ?? Int(Get(_hf, "pad_token_id"));
    public IReadOnlyList<int> EosTokenIds => Ints(Get(GenAiModel, "eos_token_id")) ?? Ints(Get(_hf, "eos_token_id")) ?? [];

    /// <summary>A name template such as <c>past_key_values.%d.key</c> from genai_config.json's decoder inputs/outputs.</summary>
    public string? DecoderName(string section, string key) => Str(Get(Get(GenAiDecoder, section), key));

    private int? HfHeadSize()
    {
        var hidden = Int(Get(_hf, "hidden_size")) ?? Int(Get(_hf, "n_embd"));
        var heads = Int(Get(_hf, "num_attention_heads")) ?? Int(Get(_hf, "n_head"));
        return Int(Get(_hf, "head_dim")) ?? (hidden is int h && heads is int n && n > 0 ? h / n : null);
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A whole number in int range (HF writes some as 512.0); anything else is null, and <see cref="CheckNumbers"/> has reported it.</summary>
    private static int? Int(JsonNode? n) => n is JsonValue v && v.TryGetValue<int>(out var i) ? i
        : n is JsonValue d && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && x is >= int.MinValue and <= int.MaxValue ? (int)x : null;

    /// <summary>
    /// Every size and token id DecodeAlign reads must be a whole number (sizes &gt; 0, ids &gt;= 0); a value of another
    /// type or out of range would otherwise be skipped and the other file's, or a default, silently believed.
    /// </summary>
    private static void CheckNumbers(string path, JsonNode? root, string[] sizes, string[] ids)
    {
        foreach (var (field, min) in sizes.Select(f => (f, 1)).Concat(ids.Select(f => (f, 0))))
        {
            var node = Pick(root, field);
            if (node is null) continue;
            var values = node is JsonArray a && field.EndsWith("eos_token_id", StringComparison.Ordinal) ? a.ToArray() : [node];
            foreach (var v in values)
                if (Int(v) is not int x || x < min)
                    throw new ModelLoadException(path, $"{field} is {v?.ToJsonString() ?? "null"}; expected a whole number >= {min}.");
        }
    }

    private static IReadOnlyList<int>? Ints(JsonNode? n) => n switch
    {
        JsonArray a => a.Select(Int).Where(i => i.HasValue).Select(i => i!.Value).ToArray(),
        JsonValue => Int(n) is int i ? [i] : null,
        _ => null,
    };
}
