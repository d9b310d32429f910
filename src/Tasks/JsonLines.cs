using System.Text.Json;
using System.Text.Json.Nodes;

namespace DecodeAlign.Tasks;

/// <summary>Reads user JSONL files (prompts, reward pairs): one JSON object per non-blank line, errors naming the file and line.</summary>
public static class JsonLines
{
    /// <summary>
    /// Maps every line of <paramref name="file"/> with <paramref name="read"/>; throws <see cref="FileNotFoundException"/>
    /// for a missing file and <see cref="FormatException"/> ("OPTION: FILE line N: what is wrong") for a line that is not
    /// a JSON object or that <paramref name="read"/> rejects with a <see cref="JsonException"/>.
    /// </summary>
    public static List<T> Read<T>(string file, string option, Func<JsonObject, T> read)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{option}: no such file {Path.GetFullPath(file)}");
        var items = new List<T>();
        var n = 0;
        foreach (var line in File.ReadLines(file))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                items.Add(read(JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not a JSON object")));
            }
            catch (JsonException e)
            {
                throw new FormatException($"{option}: {file} line {n}: {e.Message.Split(" LineNumber:", 2)[0]}");
            }
        }
        return items;
    }

    /// <summary>A string field that must be present.</summary>
    public static string RequiredString(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new JsonException($"missing string field '{name}'");

    /// <summary>An optional string field (null when absent).</summary>
    public static string? OptionalString(JsonObject o, string name) =>
        o[name] is null ? null : o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new JsonException($"'{name}' must be a string");
}
