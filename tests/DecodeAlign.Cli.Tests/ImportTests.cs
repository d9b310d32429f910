namespace DecodeAlign.Cli.Tests;

/// <summary>`import-llama2c` never writes over a model folder unless told to, and then replaces it whole.</summary>
public sealed class ImportTests
{
    private static string[] Import(string output, params string[] extra) =>
    [
        "import-llama2c", "--checkpoint", SharedModels.PathOf("stories260K", "stories260K.bin"),
        "--tokenizer", SharedModels.PathOf("stories260K", "tok512.bin"), "--out", output, .. extra,
    ];

    [SharedPythonFact]
    public void A_non_empty_output_folder_is_refused_without_force_and_replaced_whole_with_it()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("decodealign-import-").FullName, "model");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "parity.json"), "stale");
        File.WriteAllText(Path.Combine(dir, "model.onnx"), "not a model");

        var refused = CliRunner.Run(Import(dir));
        CliRunner.AssertUserError(refused, "not empty", "--force");
        Assert.Equal("stale", File.ReadAllText(Path.Combine(dir, "parity.json")));
        Assert.Equal("not a model", File.ReadAllText(Path.Combine(dir, "model.onnx")));

        var forced = CliRunner.Run(Import(dir, "--force"));
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.False(File.Exists(Path.Combine(dir, "parity.json")) && File.ReadAllText(Path.Combine(dir, "parity.json")) == "stale", "a stale file survived the replacement");
        Assert.True(new FileInfo(Path.Combine(dir, "model.onnx")).Length > 100_000);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(dir)!, ".model.import-*"));
    }

    [SharedPythonFact]
    public void A_failed_import_leaves_the_old_folder_as_it_was()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("decodealign-import-").FullName, "model");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "old");
        var bad = Path.Combine(Path.GetDirectoryName(dir)!, "broken.bin");
        File.WriteAllBytes(bad, new byte[64]);
        var r = CliRunner.Run("import-llama2c", "--checkpoint", bad, "--tokenizer", SharedModels.PathOf("stories260K", "tok512.bin"), "--out", dir, "--force");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal("old", File.ReadAllText(Path.Combine(dir, "keep.txt")));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(dir)!, ".model.import-*"));
    }
}
