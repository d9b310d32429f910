using System.Diagnostics;

namespace DecodeAlign.Benchmarks;

/// <summary>Locates benchmark models: stories260K is imported from ../shared into a temporary folder once per process.</summary>
internal static class BenchmarkModels
{
    private static string? _stories;

    /// <summary>The repository root (holding DecodeAlign.sln), searched upwards from the working directory and the binary.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Folder of the imported stories260K model; throws with a clear message when ../shared is absent.</summary>
    public static string Stories260K()
    {
        if (_stories is not null) return _stories;
        var shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models", "stories260K"));
        if (!Directory.Exists(shared)) throw new InvalidOperationException($"{shared} is absent: the stories260K benchmarks need the shared fixtures.");
        var cached = Path.Combine(Path.GetTempPath(), "decodealign-bench-stories260K");
        if (!File.Exists(Path.Combine(cached, "model.onnx")))
        {
            var psi = new ProcessStartInfo("/usr/bin/python3") { UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(RepoRoot, "tools", "python", "import_llama2c.py"), "--checkpoint", Path.Combine(shared, "stories260K.bin"), "--tokenizer", Path.Combine(shared, "tok512.bin"), "--out", cached })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException("import_llama2c.py failed; is python3-torch installed?");
        }
        return _stories = cached;
    }

    /// <summary>A built-in model folder under models/arith (lm, reward or value).</summary>
    public static string Arith(string name)
    {
        var dir = Path.Combine(RepoRoot, "models", "arith", name);
        if (!Directory.Exists(dir)) throw new InvalidOperationException($"{dir} is missing: the built-in models are trained by tools/forge.");
        return dir;
    }

    private static string FindRepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "DecodeAlign.sln"))) return dir.FullName;
        throw new InvalidOperationException("DecodeAlign.sln not found above the working directory.");
    }
}
