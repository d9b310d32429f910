using System.Diagnostics;

namespace DecodeAlign.Testing;

/// <summary>Locates the read-only fixtures in ../shared/models (never copied into the repo).</summary>
public static class SharedModels
{
    /// <summary>Absolute path of ../shared/models relative to the repository root, or null where absent.</summary>
    public static string? Root { get; } = Find();

    /// <summary>True when the shared fixtures are present.</summary>
    public static bool Available => Root is not null;

    /// <summary>The message shown by tests skipped because ../shared is absent.</summary>
    public const string SkipMessage = "../shared/models is absent (a fresh clone has no fixtures); this test needs the shared model fixtures.";

    /// <summary>Path of a file or folder under ../shared/models.</summary>
    public static string PathOf(params string[] parts) =>
        Path.Combine([Root ?? throw new InvalidOperationException(SkipMessage), .. parts]);

    /// <summary>The repository root (the folder holding DecodeAlign.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DecodeAlign.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("DecodeAlign.sln not found above " + AppContext.BaseDirectory);
    }

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("DECODEALIGN_SHARED_MODELS");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        var candidate = Path.GetFullPath(Path.Combine(FindRepoRoot(), "..", "shared", "models"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}

/// <summary>A fact that is skipped with a clear message where ../shared/models is absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when the fixtures are missing.</summary>
    public SharedFactAttribute()
    {
        if (!SharedModels.Available) Skip = SharedModels.SkipMessage;
    }
}

/// <summary>A theory that is skipped with a clear message where ../shared/models is absent.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets Skip when the fixtures are missing.</summary>
    public SharedTheoryAttribute()
    {
        if (!SharedModels.Available) Skip = SharedModels.SkipMessage;
    }
}

/// <summary>Finds Debian's python3 with torch and onnx importable (the forge and import tools need them).</summary>
public static class PythonTools
{
    /// <summary>Path of a python3 that imports torch and onnx, or null.</summary>
    public static string? Python { get; } = Probe();

    /// <summary>The message shown by tests skipped because python3-torch/python3-onnx are missing.</summary>
    public const string SkipMessage = "python3 with torch and onnx is not installed (apt-get install python3-torch python3-onnx libopenblas0-pthread); .ci/run installs them.";

    private static string? Probe()
    {
        foreach (var py in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var psi = new ProcessStartInfo(py, "-c \"import torch, onnx\"") { RedirectStandardError = true, RedirectStandardOutput = true };
                using var p = Process.Start(psi)!;
                p.WaitForExit(60_000);
                if (p.HasExited && p.ExitCode == 0) return py;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }
}

/// <summary>A fact that is skipped with a clear message where python3-torch/python3-onnx are absent.</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when python3 with torch and onnx is missing.</summary>
    public PythonTorchFactAttribute()
    {
        if (PythonTools.Python is null) Skip = PythonTools.SkipMessage;
    }
}

/// <summary>A fact that needs both the shared fixtures and python3 with torch and onnx (e.g. importing stories260K).</summary>
public sealed class SharedPythonFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when either is missing.</summary>
    public SharedPythonFactAttribute()
    {
        if (!SharedModels.Available) Skip = SharedModels.SkipMessage;
        else if (PythonTools.Python is null) Skip = PythonTools.SkipMessage;
    }
}

/// <summary>Runs the repository's Python fixture tools (tools/python) into temporary folders, once per process.</summary>
public static class PythonFixtures
{
    private static readonly Dictionary<string, string> Made = [];

    /// <summary>Runs <c>tools/python/SCRIPT --out DIR ARGS</c> with Debian's python3 and returns DIR; cached by arguments.</summary>
    public static string Make(string script, params string[] args)
    {
        var key = script + " " + string.Join(' ', args);
        lock (Made)
        {
            if (Made.TryGetValue(key, out var done)) return done;
            var dir = Directory.CreateTempSubdirectory("decodealign-fixture-").FullName;
            var psi = new ProcessStartInfo(PythonTools.Python ?? throw new InvalidOperationException(PythonTools.SkipMessage))
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            psi.ArgumentList.Add(Path.Combine(SharedModels.RepoRoot, "tools", "python", script));
            psi.ArgumentList.Add("--out");
            psi.ArgumentList.Add(dir);
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed ({p.ExitCode}):\n{stdout}\n{stderr.Result}");
            return Made[key] = dir;
        }
    }
}
