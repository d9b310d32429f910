using System.Text;
using System.Text.Json.Nodes;

namespace DecodeAlign.Cli.Tests.Fuzz;

/// <summary>
/// Copies a built-in model folder and damages one of its files the way disks, editors and bad exports do: deleted,
/// emptied, truncated, bytes flipped, a JSON value replaced by one of another type or range, a key removed.
/// </summary>
internal sealed class ModelFileMutator(Random random, FuzzSandbox sandbox)
{
    private static readonly string[] JsonFiles = ["genai_config.json", "config.json", "tokenizer.json", "tokenizer_config.json"];

    /// <summary>A damaged copy of models/arith/<paramref name="model"/>; <paramref name="description"/> says what was done.</summary>
    public string Mutate(string model, int index, bool onnx, out string description)
    {
        var dir = Path.Combine(sandbox.Root, "models", $"case-{index}", model);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Path.Combine(SharedModels.RepoRoot, "models", "arith", model)))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var file = onnx ? "model.onnx" : JsonFiles[random.Next(JsonFiles.Length)];
        var path = Path.Combine(dir, file);
        description = $"{model}/{file}: " + (onnx ? MutateBytes(path) : random.Next(4) == 0 ? MutateBytes(path) : MutateJson(path));
        return dir;
    }

    private string MutateBytes(string path)
    {
        var bytes = File.ReadAllBytes(path);
        switch (random.Next(5))
        {
            case 0:
                File.Delete(path);
                return "deleted";
            case 1:
                File.WriteAllBytes(path, []);
                return "emptied";
            case 2:
                var keep = random.Next(bytes.Length);
                File.WriteAllBytes(path, bytes[..keep]);
                return $"truncated to {keep} of {bytes.Length} bytes";
            case 3:
                // The first kilobytes hold the graph's structure (names, shapes, types); later bytes are mostly weights.
                var flips = random.Next(1, 9);
                for (var i = 0; i < flips; i++) bytes[random.Next(Math.Min(bytes.Length, 4096))] ^= (byte)(1 << random.Next(8));
                File.WriteAllBytes(path, bytes);
                return $"{flips} bits flipped in the first 4 KiB";
            default:
                File.WriteAllBytes(path, Encoding.UTF8.GetBytes("{\"not\": \"this file\"}"));
                return "replaced by another file's content";
        }
    }

    private string MutateJson(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var leaves = new List<(JsonNode Parent, string? Key, int Index)>();
        Collect(root, leaves);
        var (parent, key, index) = leaves[random.Next(leaves.Count)];
        string what;
        if (random.Next(4) == 0 && key is not null)
        {
            parent.AsObject().Remove(key);
            what = $"removed '{key}'";
        }
        else
        {
            JsonNode? value = random.Next(9) switch
            {
                0 => JsonValue.Create("text"),
                1 => JsonValue.Create(-1),
                2 => JsonValue.Create(0),
                3 => JsonValue.Create(100000),
                4 => JsonValue.Create(1.5),
                5 => JsonValue.Create(1e30),
                6 => null,
                7 => new JsonArray(1, 2),
                _ => new JsonObject(),
            };
            if (key is not null) parent[key] = value;
            else parent.AsArray()[index] = value;
            what = $"set {(key ?? $"[{index}]")} to {value?.ToJsonString() ?? "null"}";
        }
        File.WriteAllText(path, root.ToJsonString());
        return what;
    }

    /// <summary>Every (parent, key) whose value is a leaf or a small container; big vocabularies are sampled, not listed whole.</summary>
    private void Collect(JsonNode node, List<(JsonNode, string?, int)> into)
    {
        switch (node)
        {
            case JsonObject o:
                var props = o.ToArray();
                foreach (var (k, v) in props.Length > 64 ? props.OrderBy(_ => random.Next()).Take(16) : props)
                {
                    into.Add((o, k, -1));
                    if (v is JsonObject or JsonArray) Collect(v, into);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < Math.Min(a.Count, 4); i++)
                {
                    var j = a.Count > 4 ? random.Next(a.Count) : i;
                    into.Add((a, null, j));
                    if (a[j] is JsonObject or JsonArray) Collect(a[j]!, into);
                }
                break;
        }
    }
}
