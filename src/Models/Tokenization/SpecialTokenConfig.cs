using System.Text.Json;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Special-token settings from the files beside a tokenizer: tokenizer_config.json, then special_tokens_map.json
/// (token spellings, add_bos_token/add_eos_token, added_tokens_decoder), then config.json and genai_config.json
/// (bare ids, used only for roles the tokenizer files leave open, since model configs are sometimes stale).
/// </summary>
internal sealed class SpecialTokenConfig
{
    public string? Bos { get; private set; }
    public string? Eos { get; private set; }
    public string? Pad { get; private set; }
    public string? Unk { get; private set; }
    public int? BosId { get; private set; }
    public List<int> EosIds { get; } = [];
    public int? PadId { get; private set; }
    public bool? AddBos { get; private set; }
    public bool? AddEos { get; private set; }
    public bool? AddPrefixSpace { get; private set; }
    public List<AddedToken> AddedTokens { get; } = [];

    public static SpecialTokenConfig Read(string folder)
    {
        var config = new SpecialTokenConfig();
        string tokenizerConfig = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(tokenizerConfig))
        {
            using var doc = JsonFields.Parse(tokenizerConfig);
            var root = doc.RootElement;
            config.ReadSpellings(root, tokenizerConfig);
            config.AddBos = BoolOrNull(root, "add_bos_token");
            config.AddEos = BoolOrNull(root, "add_eos_token");
            config.AddPrefixSpace = BoolOrNull(root, "add_prefix_space");
            if (JsonFields.Optional(root, "added_tokens_decoder") is { ValueKind: JsonValueKind.Object } decoder)
            {
                foreach (var entry in decoder.EnumerateObject())
                {
                    if (!int.TryParse(entry.Name, out int id) || JsonFields.Optional(entry.Value, "content") is not { ValueKind: JsonValueKind.String } content)
                        throw new ModelLoadException(tokenizerConfig, $"\"added_tokens_decoder.{entry.Name}\" must be keyed by an integer id and hold a \"content\" string.");
                    bool special = JsonFields.Bool(entry.Value, "special", false);
                    config.AddedTokens.Add(new AddedToken(id, content.GetString()!, special, JsonFields.Bool(entry.Value, "normalized", !special),
                        JsonFields.Bool(entry.Value, "lstrip", false), JsonFields.Bool(entry.Value, "rstrip", false), JsonFields.Bool(entry.Value, "single_word", false)));
                }
            }
        }
        string map = Path.Combine(folder, "special_tokens_map.json");
        if (File.Exists(map))
        {
            using var doc = JsonFields.Parse(map);
            config.ReadSpellings(doc.RootElement, map);
        }
        string modelConfig = Path.Combine(folder, "config.json");
        if (File.Exists(modelConfig))
        {
            using var doc = JsonFields.Parse(modelConfig);
            config.ReadIds(doc.RootElement, modelConfig, "");
        }
        string genai = Path.Combine(folder, "genai_config.json");
        if (File.Exists(genai))
        {
            using var doc = JsonFields.Parse(genai);
            if (JsonFields.Optional(doc.RootElement, "model") is { ValueKind: JsonValueKind.Object } model) config.ReadIds(model, genai, "model.");
        }
        return config;
    }

    private static bool? BoolOrNull(JsonElement root, string name) =>
        JsonFields.Optional(root, name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>Fills roles still open; transformers writes a spelling either as a string or as {"content": ...}.</summary>
    private void ReadSpellings(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ModelLoadException(path, "the top level must be a JSON object.");
        Bos ??= Spelling(root, "bos_token", path);
        Eos ??= Spelling(root, "eos_token", path);
        Pad ??= Spelling(root, "pad_token", path);
        Unk ??= Spelling(root, "unk_token", path);
    }

    private static string? Spelling(JsonElement root, string name, string path) => JsonFields.Optional(root, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o when JsonFields.Optional(o, "content") is { ValueKind: JsonValueKind.String } c => c.GetString(),
        var other => throw new ModelLoadException(path, $"\"{name}\" must be a string or an object with a \"content\" string, not {other.Value.GetRawText()}."),
    };

    private void ReadIds(JsonElement root, string path, string prefix)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ModelLoadException(path, "the top level must be a JSON object.");
        BosId ??= Id(root, "bos_token_id", path, prefix);
        PadId ??= Id(root, "pad_token_id", path, prefix);
        if (EosIds.Count > 0) return;
        switch (JsonFields.Optional(root, "eos_token_id"))
        {
            case { ValueKind: JsonValueKind.Array } list:
                foreach (var e in list.EnumerateArray())
                    EosIds.Add(e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int id) ? id
                        : throw new ModelLoadException(path, $"\"{prefix}eos_token_id\" must hold integer ids, not {e.GetRawText()}."));
                break;
            case not null:
                if (Id(root, "eos_token_id", path, prefix) is int eos) EosIds.Add(eos);
                break;
        }
    }

    private static int? Id(JsonElement root, string name, string path, string prefix) => JsonFields.Optional(root, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out int id) => id,
        var other => throw new ModelLoadException(path, $"\"{prefix}{name}\" must be an integer id, not {other.Value.GetRawText()}."),
    };
}
