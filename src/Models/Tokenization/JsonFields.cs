using System.Text.Json;

namespace DecodeAlign.Models.Tokenization;

/// <summary>Reads tokenizer JSON with errors that name the file and the JSON path of the bad field.</summary>
internal static class JsonFields
{
    public static JsonDocument Parse(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"cannot read the file: {e.Message}", e);
        }
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"malformed JSON: {e.Message}", e);
        }
    }

    public static JsonElement? Optional(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement Required(JsonElement obj, string name, JsonValueKind kind, string path, string jsonPath)
    {
        if (Optional(obj, name) is not { } v)
            throw new ModelLoadException(path, $"\"{jsonPath}\" is missing.");
        if (v.ValueKind != kind)
            throw new ModelLoadException(path, $"\"{jsonPath}\" must be a JSON {Describe(kind)}, not {Describe(v.ValueKind)}.");
        return v;
    }

    public static string? String(JsonElement obj, string name, string path, string jsonPath)
    {
        if (Optional(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw new ModelLoadException(path, $"\"{jsonPath}\" must be a JSON string, not {Describe(v.ValueKind)}.");
        return v.GetString();
    }

    public static bool Bool(JsonElement obj, string name, bool fallback) =>
        Optional(obj, name) is { } v && (v.ValueKind == JsonValueKind.True || v.ValueKind == JsonValueKind.False) ? v.GetBoolean() : fallback;

    public static int Int(JsonElement obj, string name, int fallback) =>
        Optional(obj, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out int i) ? i : fallback;

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
