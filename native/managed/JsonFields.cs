using System.Globalization;
using System.Text.Json;

namespace DecodeAlign.Native;

/// <summary>Typed reads of one JSON object's members, each failure a <see cref="Status.Option"/> error naming the key.</summary>
internal sealed class JsonFields
{
    private readonly string _what;

    /// <summary>Parses <paramref name="json"/> (null or blank = {}), which must be one object.</summary>
    public JsonFields(string? json, string what)
    {
        _what = what;
        if (string.IsNullOrWhiteSpace(json)) return;
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new NativeApiException(Status.Json, $"{what} must be a JSON object (got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()})");
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (Members.ContainsKey(p.Name)) throw new NativeApiException(Status.Json, $"{what}: key '{p.Name}' appears twice");
            Members[p.Name] = p.Value.Clone();
        }
    }

    /// <summary>Every member, by key, in no particular order.</summary>
    public Dictionary<string, JsonElement> Members { get; } = new(StringComparer.Ordinal);

    /// <summary>Removes and returns the member, so whatever is left at the end was not understood.</summary>
    private JsonElement? Take(string key)
    {
        if (!Members.Remove(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value;
    }

    /// <summary>A string member, or null when absent.</summary>
    public string? String(string key) => Take(key) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(key, "a string", v)
        : null;

    /// <summary>An integer member that fits an int, or null when absent.</summary>
    public int? Int(string key) => Take(key) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Wrong(key, "an integer", v)
        : null;

    /// <summary>A whole number >= 0 (seeds), or null when absent.</summary>
    public ulong? UInt64(string key) => Take(key) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var u) ? u : throw Wrong(key, "a whole number >= 0", v)
        : null;

    /// <summary>A number member as float, or null when absent.</summary>
    public float? Float(string key) => Take(key) is { } v
        ? v.ValueKind == JsonValueKind.Number && float.TryParse(v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : throw Wrong(key, "a number", v)
        : null;

    /// <summary>A boolean member, or null when absent.</summary>
    public bool? Bool(string key) => Take(key) is { } v
        ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Wrong(key, "true or false", v)
        : null;

    /// <summary>A string or an array of strings (one string is a list of one).</summary>
    public string[]? Strings(string key)
    {
        if (Take(key) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String)) throw Wrong(key, "a string or an array of strings", v);
        return v.EnumerateArray().Select(x => x.GetString()!).ToArray();
    }

    /// <summary>Throws for the first key no read took, listing the keys that are understood.</summary>
    public void RejectRest(IEnumerable<string> known)
    {
        if (Members.Count > 0)
            throw new NativeApiException(Status.Option, $"{_what}: unknown key '{Members.Keys.First()}' (known keys: {string.Join(", ", known)})");
    }

    private NativeApiException Wrong(string key, string expected, JsonElement v) =>
        new(Status.Option, $"{_what}: '{key}' must be {expected} (got {Shorten(v.GetRawText())})");

    /// <summary>Keeps error messages one line long whatever the caller passed.</summary>
    internal static string Shorten(string raw) => raw.Length <= 60 ? raw : raw[..57] + "...";
}
