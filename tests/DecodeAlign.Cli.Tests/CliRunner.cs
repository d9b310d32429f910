using System.Diagnostics;

namespace DecodeAlign.Cli.Tests;

/// <summary>Runs the built <c>decodealign</c> CLI as a separate process, as a user would.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "decodealign.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
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
