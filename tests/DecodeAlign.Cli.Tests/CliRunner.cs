using System.Diagnostics;

namespace DecodeAlign.Cli.Tests;

/// <summary>Runs the built <c>decodealign</c> CLI as a separate process, as a user would.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>How every test starts the CLI: the built decodealign.dll under dotnet, output and errors redirected.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "decodealign.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    public static Result Run(params string[] args)
    {
        using var p = Process.Start(StartInfo(args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new Result(p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Asserts a user error: non-zero exit, a one-line "error:" message containing every fragment, and no stack trace.</summary>
    public static void AssertUserError(Result r, params string[] fragments)
    {
        Assert.True(r.ExitCode != 0, $"expected failure, got exit 0; stdout: {r.Stdout}");
        Assert.StartsWith("error:", r.Stderr.TrimStart());
        Assert.DoesNotContain("   at ", r.Stderr);
        foreach (var f in fragments) Assert.Contains(f, r.Stderr);
    }
}

/// <summary>stories260K imported once per test run into a temporary folder (never into the repository).</summary>
internal static class ImportedStories
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var dir = System.IO.Path.Combine(Directory.CreateTempSubdirectory("decodealign-stories-").FullName, "stories260K");
        var r = CliRunner.Run("import-llama2c", "--checkpoint", SharedModels.PathOf("stories260K", "stories260K.bin"),
            "--tokenizer", SharedModels.PathOf("stories260K", "tok512.bin"), "--out", dir);
        Assert.True(r.ExitCode == 0, $"import failed: {r.Stderr}");
        return dir;
    });

    public static string Path => Folder.Value;
}

/// <summary>A CLI process left running so a test can signal it (SIGINT, SIGTERM) as a shell or service manager would.</summary>
internal sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    public RunningCli(params string[] args)
    {
        _process = Process.Start(CliRunner.StartInfo(args))!;
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>The process id, e.g. to read its peak memory from /proc.</summary>
    public int Id => _process.Id;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>Sends a POSIX signal (2 = SIGINT, 15 = SIGTERM).</summary>
    public void Signal(int signal) => Assert.Equal(0, kill(_process.Id, signal));

    /// <summary>Waits for exit, failing the test past <paramref name="timeout"/>.</summary>
    public CliRunner.Result Wait(TimeSpan timeout) =>
        TryWait(timeout) ?? throw new Xunit.Sdk.XunitException($"the CLI did not exit within {timeout.TotalSeconds} s");

    /// <summary>Waits for exit; past <paramref name="timeout"/> the process is killed and the result is null.</summary>
    public CliRunner.Result? TryWait(TimeSpan timeout)
    {
        if (_process.WaitForExit(timeout)) return new CliRunner.Result(_process.ExitCode, _stdout.Result, _stderr.Result);
        _process.Kill(entireProcessTree: true);
        return null;
    }

    /// <summary>Peak resident memory in bytes so far (VmHWM), or null where /proc is not readable.</summary>
    public long? PeakResidentBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
