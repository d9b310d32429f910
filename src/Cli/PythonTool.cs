using System.Diagnostics;

namespace DecodeAlign.Cli;

/// <summary>
/// Runs the project's Python tools (tools/python, copied beside the CLI at build time) with Debian's python3, which
/// has torch and onnx; the pyenv python3 a developer may have on PATH usually lacks them.
/// </summary>
internal static class PythonTool
{
    private const string InstallHint = "install them with: apt-get install python3-torch python3-onnx python3-numpy libopenblas0-pthread";

    /// <summary>The folder holding the Python tools next to the running CLI.</summary>
    public static string ToolsDirectory => Path.Combine(AppContext.BaseDirectory, "tools", "python");

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/>, streaming its output; returns its exit code.</summary>
    public static int Run(string script, IEnumerable<string> arguments, CancellationToken ct)
    {
        var path = Path.Combine(ToolsDirectory, script);
        if (!File.Exists(path)) throw new CliUsageException($"The Python tool {path} is missing from this build of decodealign.");
        var python = FindPython() ?? throw new CliUsageException($"No python3 with torch and onnx was found (tried $DECODEALIGN_PYTHON, /usr/bin/python3, python3); {InstallHint}.");
        var psi = new ProcessStartInfo(python) { UseShellExecute = false };
        psi.ArgumentList.Add(path);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new CliUsageException($"Could not start {python}.");
        using var reg = ct.Register(() => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        p.WaitForExit();
        ct.ThrowIfCancellationRequested();
        return p.ExitCode;
    }

    /// <summary>The first python3 that imports torch and onnx, or null.</summary>
    public static string? FindPython()
    {
        var env = Environment.GetEnvironmentVariable("DECODEALIGN_PYTHON");
        foreach (var candidate in new[] { env, "/usr/bin/python3", "python3" })
        {
            if (string.IsNullOrEmpty(candidate)) continue;
            try
            {
                var psi = new ProcessStartInfo(candidate, ["-c", "import torch, onnx"]) { RedirectStandardError = true, RedirectStandardOutput = true };
                using var p = Process.Start(psi);
                if (p is null) continue;
                p.WaitForExit();
                if (p.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under that name; try the next.
            }
        }
        return null;
    }
}
