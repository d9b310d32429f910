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
        var cmd = new Command("import-llama2c", "Import a llama2.c checkpoint into the ONNX layout (needs Debian's python3-torch and python3-onnx).") { checkpoint, tokenizer, output };
        cmd.SetAction((pr, ct) =>
        {
            var ckpt = pr.GetValue(checkpoint)!;
            var tok = pr.GetValue(tokenizer)!;
            if (!ckpt.Exists) throw new CliUsageException($"{ckpt.FullName}: checkpoint not found.");
            if (!tok.Exists) throw new CliUsageException($"{tok.FullName}: tokenizer not found.");
            var code = PythonTool.Run("import_llama2c.py",
                ["--checkpoint", ckpt.FullName, "--tokenizer", tok.FullName, "--out", pr.GetValue(output)!.FullName], ct);
            return Task.FromResult(code == 0 ? 0 : CliErrors.UserError);
        });
        return cmd;
    }
}
