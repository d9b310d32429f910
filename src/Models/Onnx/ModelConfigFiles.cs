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

    private ModelConfigFiles(JsonNode? genai, JsonNode? hf)
    {
        _genai = genai;
        _hf = hf;
    }

    public static ModelConfigFiles Read(string folder) =>
        new(ReadJson(Path.Combine(folder, "genai_config.json")), ReadJson(Path.Combine(folder, "config.json")));

    private static JsonNode? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException(path, $"is not valid JSON ({ex.Message}).", ex);
        }
    }

    private JsonNode? GenAiModel => _genai?["model"];
    private JsonNode? GenAiDecoder => GenAiModel?["decoder"];

    /// <summary>The ONNX file named by genai_config.json, if any.</summary>
    public string? DecoderFileName => Str(GenAiDecoder?["filename"]);

    /// <summary>The output head declared by DecodeAlign's exporter: lm, score or value.</summary>
    public string? Head => Str(_genai?["decodealign"]?["head"]) ?? Str(_hf?["decodealign"]?["head"]);

    public int? ContextLength => Int(GenAiModel?["context_length"]) ?? Int(_hf?["max_position_embeddings"]) ?? Int(_hf?["n_positions"]);
    public int? VocabSize => Int(GenAiModel?["vocab_size"]) ?? Int(_hf?["vocab_size"]);
    public int? NumKvHeads => Int(GenAiDecoder?["num_key_value_heads"]) ?? Int(_hf?["num_key_value_heads"]) ?? Int(_hf?["num_attention_heads"]) ?? Int(_hf?["n_head"]);
    public int? HeadSize => Int(GenAiDecoder?["head_size"]) ?? HfHeadSize();
    public int? BosTokenId => Int(GenAiModel?["bos_token_id"]) ?? Int(_hf?["bos_token_id"]);
    public int? PadTokenId => Int(GenAiModel?["pad_token_id"]) ?? Int(_hf?["pad_token_id"]);
    public IReadOnlyList<int> EosTokenIds => Ints(GenAiModel?["eos_token_id"]) ?? Ints(_hf?["eos_token_id"]) ?? [];

    /// <summary>A name template such as <c>past_key_values.%d.key</c> from genai_config.json's decoder inputs/outputs.</summary>
    public string? DecoderName(string section, string key) => Str(GenAiDecoder?[section]?[key]);

    private int? HfHeadSize()
    {
        var hidden = Int(_hf?["hidden_size"]) ?? Int(_hf?["n_embd"]);
        var heads = Int(_hf?["num_attention_heads"]) ?? Int(_hf?["n_head"]);
        return Int(_hf?["head_dim"]) ?? (hidden is int h && heads is int n && n > 0 ? h / n : null);
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int? Int(JsonNode? n) => n is JsonValue v && v.TryGetValue<int>(out var i) ? i : n is JsonValue d && d.TryGetValue<double>(out var x) ? (int)x : null;

    private static IReadOnlyList<int>? Ints(JsonNode? n) => n switch
    {
        JsonArray a => a.Select(Int).Where(i => i.HasValue).Select(i => i!.Value).ToArray(),
        JsonValue => Int(n) is int i ? [i] : null,
        _ => null,
    };
}
