using System.Security.Cryptography;

namespace DecodeAlign.Cli.Tests.Fuzz;

/// <summary>
/// A temporary folder holding the fuzz inputs (model copies, prompt and pair files) and one fresh output folder per
/// case; snapshots of its files show whether a case wrote anywhere but the output it was given.
/// </summary>
internal sealed class FuzzSandbox : IDisposable
{
    public FuzzSandbox()
    {
        Root = Directory.CreateTempSubdirectory("decodealign-fuzz-").FullName;
        Inputs = Directory.CreateDirectory(Path.Combine(Root, "in")).FullName;
        Outputs = Directory.CreateDirectory(Path.Combine(Root, "out")).FullName;
        Directory.CreateDirectory(Path.Combine(Inputs, "empty-folder"));
        File.WriteAllText(Path.Combine(Inputs, "prompts.jsonl"), "{\"prompt\": \"Q: Ann has 2 cats and gets 3 more. How many cats does Ann have now?\\nA:\", \"answer\": \"5\"}\n{\"prompt\": \"Q: 7 + 5?\\nA:\"}\n");
        File.WriteAllText(Path.Combine(Inputs, "prompts-bad.jsonl"), "{\"prompt\": \"ok\"}\n{\"prompt\": 3\n");
        File.WriteAllText(Path.Combine(Inputs, "pairs.jsonl"), "{\"prompt\": \"Q: 2+2?\\nA:\", \"chosen\": \" 2 + 2 = 4. The answer is 4.\", \"rejected\": \" 2 + 2 = 5. The answer is 5.\", \"subset\": \"add\"}\n");
        File.WriteAllText(Path.Combine(Inputs, "pairs-bad.jsonl"), "{\"prompt\": \"x\", \"chosen\": \"a\"}\nnot json\n");
        File.WriteAllBytes(Path.Combine(Inputs, "binary.bin"), [0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]);
        File.WriteAllText(Path.Combine(Inputs, "empty.jsonl"), "");
    }

    /// <summary>The sandbox folder.</summary>
    public string Root { get; }

    /// <summary>Read-only inputs: cases must never change them.</summary>
    public string Inputs { get; }

    /// <summary>Parent of the per-case output folders.</summary>
    public string Outputs { get; }

    /// <summary>A fresh output path for case <paramref name="index"/> (its folder is created, the path itself is not).</summary>
    public string OutputFor(int index) => Path.Combine(Directory.CreateDirectory(Path.Combine(Outputs, $"case-{index}")).FullName, "result");

    /// <summary>Every file under <paramref name="folder"/> with its size and content hash.</summary>
    public static Dictionary<string, string> Snapshot(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .ToDictionary(f => f, f => $"{new FileInfo(f).Length}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}")
            : [];

    /// <summary>Files added, removed or changed between two snapshots.</summary>
    public static IEnumerable<string> Changes(Dictionary<string, string> before, Dictionary<string, string> after) =>
        before.Keys.Union(after.Keys).Where(k => !before.TryGetValue(k, out var b) || !after.TryGetValue(k, out var a) || a != b).Order();

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
