using System.CommandLine;

namespace DecodeAlign.Cli.Commands;

/// <summary><c>decodealign import-llama2c</c>: converts a llama2.c checkpoint and tokenizer into a model folder <c>generate</c> accepts.</summary>
internal static class ImportLlama2cCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "llama2.c checkpoint (.bin, version 0 format).", Required = true };
        var tokenizer = new Option<FileInfo>("--tokenizer") { Description = "llama2.c tokenizer (tokenizer.bin / tok512.bin).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write model.onnx, genai_config.json and tokenizer.json into.", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace a non-empty --out folder (as a whole: nothing of the old model is left behind)." };
        var cmd = new Command("import-llama2c", "Import a llama2.c checkpoint into the ONNX layout (needs Debian's python3-torch and python3-onnx).") { checkpoint, tokenizer, output, force };
        cmd.SetAction((pr, ct) =>
        {
            var ckpt = pr.GetValue(checkpoint)!;
            var tok = pr.GetValue(tokenizer)!;
            if (!ckpt.Exists) throw new CliUsageException($"{ckpt.FullName}: checkpoint not found.");
            if (!tok.Exists) throw new CliUsageException($"{tok.FullName}: tokenizer not found.");
            var target = pr.GetValue(output)!;
            if (File.Exists(target.FullName)) throw new CliUsageException($"--out: {target.FullName} is a file, not a folder.");
            if (target.Exists && target.EnumerateFileSystemInfos().Any() && !pr.GetValue(force))
                throw new CliUsageException($"--out: {target.FullName} is not empty; pass --force to replace it.");
            // The import writes beside the target and takes its place only when it succeeded, so a failed or cancelled
            // import leaves the old folder as it was, and a replaced one keeps no stale file (an old parity.json).
            var staging = Path.Combine(target.Parent?.FullName ?? ".", $".{target.Name}.import-{Environment.ProcessId}");
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            try
            {
                var code = PythonTool.Run("import_llama2c.py", ["--checkpoint", ckpt.FullName, "--tokenizer", tok.FullName, "--out", staging], ct);
                if (code != 0) return Task.FromResult(CliErrors.UserError);
                if (target.Exists) target.Delete(recursive: true);
                Directory.Move(staging, target.FullName);
                return Task.FromResult(0);
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            }
        });
        return cmd;
    }
}
