using System.Text.Json;
using System.Text.Json.Nodes;

namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>
/// Writes a tok512-like tokenizer.json in the Llama-2 HF layout that the llama2.c importer produces: &lt;unk&gt;/&lt;s&gt;/&lt;/s&gt;
/// at 0/1/2, &lt;0x00&gt;..&lt;0xFF&gt; at 3..258, then pieces and merges up to 512 tokens. Derived from nothing in ../shared.
/// </summary>
internal static class SyntheticLlamaTokenizer
{
    public const string Space = "\u2581";

    public static (Dictionary<string, int> Vocab, List<(string, string)> Merges) Build()
    {
        var vocab = new Dictionary<string, int> { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[ReferenceBpe.ByteToken((byte)b)] = vocab.Count;
        foreach (var c in Space + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'")
            vocab[c.ToString()] = vocab.Count;
        var merges = new List<(string, string)>();
        void Merge(string a, string b)
        {
            if (vocab.Count >= 512 || !vocab.ContainsKey(a) || !vocab.ContainsKey(b) || vocab.ContainsKey(a + b)) return;
            merges.Add((a, b));
            vocab[a + b] = vocab.Count;
        }
        foreach (var (a, b) in new[]
        {
            (Space, "t"), ("h", "e"), (Space + "t", "he"), (Space, "a"), ("n", "d"), (Space + "a", "nd"), ("i", "n"), (Space, "s"),
            ("e", "r"), ("o", "n"), (Space, "w"), ("o", "r"), (Space + "w", "or"), ("l", "d"), (Space + "wor", "ld"), ("H", "e"),
            ("l", "l"), ("He", "ll"), ("Hell", "o"), (Space, "H"), ("e", "l"), ("el", "lo"), (Space + "H", "ello"), (Space, Space),
        }) Merge(a, b);
        const string letters = "abcdefghijklmnopqrstuvwxyz", vowels = "aeiou";
        foreach (var x in letters) foreach (var v in vowels) Merge(x.ToString(), v.ToString());
        foreach (var v in vowels) foreach (var x in letters) Merge(v.ToString(), x.ToString());
        foreach (var x in letters) Merge(Space, x.ToString());
        foreach (var x in letters) foreach (var y in letters) Merge(x.ToString(), y.ToString());
        return (vocab, merges);
    }

    /// <summary>Writes tokenizer.json into <paramref name="dir"/> in one of the four accepted spellings.</summary>
    public static string Write(string dir, bool arrayMerges, bool metaspace, JsonNode? decoder = null, JsonNode? postProcessor = null)
    {
        var (vocab, merges) = Build();
        var vocabJson = new JsonObject();
        foreach (var (token, id) in vocab) vocabJson[token] = id;
        var mergesJson = new JsonArray();
        foreach (var (a, b) in merges) mergesJson.Add(arrayMerges ? new JsonArray(a, b) : JsonValue.Create($"{a} {b}"));
        var added = new JsonArray();
        foreach (var (content, id) in new[] { ("<unk>", 0), ("<s>", 1), ("</s>", 2) })
            added.Add(new JsonObject { ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = metaspace ? null : JsonNode.Parse("""{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}"""),
            ["pre_tokenizer"] = metaspace ? JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""") : null,
            ["post_processor"] = postProcessor,
            ["decoder"] = decoder ?? JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"""),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = "<unk>",
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["ignore_merges"] = false,
                ["vocab"] = vocabJson,
                ["merges"] = mergesJson,
            },
        };
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
