namespace DecodeAlign.Cli.Tests;

/// <summary>Output that cannot be written (a folder, a full disk, a missing folder) is one error line, exit 2, no stack trace, nothing half-written.</summary>
public sealed class OutputErrorTests
{
    [Fact]
    public void Task_dump_to_a_folder_names_the_option()
    {
        var dir = Directory.CreateTempSubdirectory("decodealign-dump-").FullName;
        var r = CliRunner.Run("task-dump", "--count", "3", "--out", dir);
        CliRunner.AssertUserError(r, "--out", "is a folder");
        Assert.Equal(2, r.ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Fact]
    public void Task_dump_to_a_full_disk_is_one_error_line()
    {
        var r = CliRunner.Run("task-dump", "--count", "50000", "--out", "/dev/full");
        CliRunner.AssertUserError(r, "No space left on device");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Task_dump_into_a_missing_folder_names_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), "decodealign-no-such-folder", "problems.jsonl");
        var r = CliRunner.Run("task-dump", "--count", "3", "--out", missing);
        CliRunner.AssertUserError(r, "does not exist", Path.GetDirectoryName(missing)!);
    }

    [Fact]
    public void A_failed_dump_leaves_an_existing_file_as_it_was()
    {
        var dir = Directory.CreateTempSubdirectory("decodealign-dump-").FullName;
        var file = Path.Combine(dir, "problems.jsonl");
        File.WriteAllText(file, "old\n");
        var r = CliRunner.Run("task-dump", "--count", "-1", "--out", file);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("old\n", File.ReadAllText(file));
        var ok = CliRunner.Run("task-dump", "--count", "2", "--out", file);
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(2, File.ReadAllLines(file).Length);
        Assert.Single(Directory.EnumerateFiles(dir));
    }

    [Fact]
    public async Task A_closed_output_pipe_gives_no_stack_trace()
    {
        // The reader goes away after the first line, as `decodealign task-dump | head -1` does.
        using var p = System.Diagnostics.Process.Start(CliRunner.StartInfo("task-dump", "--count", "200000"))!;
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.NotNull(p.StandardOutput.ReadLine());
        p.StandardOutput.Close();
        Assert.True(p.WaitForExit(60_000), "the CLI kept running after its output closed");
        var errors = await stderr;
        Assert.Contains(p.ExitCode, new[] { 0, 2 });
        Assert.DoesNotContain("   at ", errors);
        Assert.True(errors.Split('\n').Count(l => l.StartsWith("error:", StringComparison.Ordinal)) <= 1, errors);
    }
}
