using System.Diagnostics;
using System.Text.Json;
using DecodeAlign.Tasks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace DecodeAlign.Tasks.Tests;

/// <summary>Runs the forge on its tiny config and checks that ONNX Runtime reproduces PyTorch's outputs for every head.</summary>
public class ForgeParityTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    [PythonTorchFact]
    public void Tiny_forge_exports_models_whose_onnx_outputs_match_pytorch()
    {
        var root = SharedModels.RepoRoot;
        var tmp = Directory.CreateTempSubdirectory("forge-test-").FullName;
        try
        {
            // The forge trains on the C# generator's problems; writing them here avoids a nested dotnet build.
            var dataDir = Directory.CreateDirectory(Path.Combine(tmp, "data")).FullName;
            var task = TaskRegistry.Get("arith");
            foreach (var (split, n) in new[] { (Split.Train, 300), (Split.Validation, 40), (Split.Test, 40) })
                ProblemDump.WriteFile(task, split, 0, n, Path.Combine(dataDir, split.Name() + ".jsonl"));

            var outDir = Path.Combine(tmp, "models");
            RunForge(root, dataDir, outDir, Path.Combine(tmp, "work"));

            foreach (var name in new[] { "lm", "likelihood", "verifier", "aligned", "value" })
            {
                CheckParity(Path.Combine(outDir, name));
                CheckTokenizer(Path.Combine(outDir, name));
            }
            var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
            Assert.True(report.RootElement.GetProperty("tiny").GetBoolean());
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    [Fact]
    public void Committed_arith_models_match_their_parity_files()
    {
        // Guards the committed ONNX files against corruption and against tokenizer drift in the C# loader.
        var dir = Path.Combine(SharedModels.RepoRoot, "models", "arith");
        Assert.True(Directory.Exists(dir), $"{dir} is missing: the forge's exported models are committed there");
        long total = 0;
        foreach (var name in new[] { "lm", "likelihood", "verifier", "aligned", "value" })
        {
            CheckParity(Path.Combine(dir, name));
            CheckTokenizer(Path.Combine(dir, name));
            total += new DirectoryInfo(Path.Combine(dir, name)).EnumerateFiles().Sum(f => f.Length);
        }
        Assert.True(total <= 30L << 20, $"models/arith holds {total} bytes, over the 30 MB budget");
    }

    // parity.json's input is <|bos|> + prompt + response of test problem 0, cut to a few tokens.
    private static void CheckTokenizer(string dir)
    {
        var tok = DecodeAlign.Models.Tokenization.TextTokenizer.Load(dir);
        using var parity = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "parity.json")));
        var expected = parity.RootElement.GetProperty("input_ids")[0].EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var task = TaskRegistry.Get("arith");
        var p = task.Generate(Split.Test, 0);
        var ids = tok.Encode(task.Prompt(p) + task.Response(p));
        Assert.Equal(expected, ids[..expected.Length]);
        Assert.Equal(task.Prompt(p) + task.Response(p), tok.Decode(ids));
        // Digits are never merged: every number is spelled one digit per token.
        foreach (var id in ids)
        {
            var piece = tok.IdToToken(id)!;
            Assert.True(!piece.Any(char.IsAsciiDigit) || piece.Length == 1, $"token '{piece}' merges a digit");
        }
    }

    private void RunForge(string root, string dataDir, string outDir, string workDir)
    {
        var psi = new ProcessStartInfo(PythonTools.Python!)
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { Path.Combine(root, "tools", "forge", "forge.py"), "--tiny", "--seed", "7",
                                  "--data", dataDir, "--out", outDir, "--work", workDir })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("forge --tiny did not finish within 180 s");
        }
        output.WriteLine(stdout.Result);
        Assert.True(p.ExitCode == 0, $"forge --tiny failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }

    private void CheckParity(string dir)
    {
        using var genai = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "genai_config.json")));
        var dec = genai.RootElement.GetProperty("model").GetProperty("decoder");
        var layers = dec.GetProperty("num_hidden_layers").GetInt32();
        var kvHeads = dec.GetProperty("num_key_value_heads").GetInt32();
        var headSize = dec.GetProperty("head_size").GetInt32();
        using var parity = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "parity.json")));
        var ids = parity.RootElement.GetProperty("input_ids")[0].EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var outName = parity.RootElement.GetProperty("output").GetString()!;
        var expected = parity.RootElement.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var perPosition = expected.Length / ids.Length;

        using var session = new InferenceSession(Path.Combine(dir, "model.onnx"));
        // Whole sequence at once, empty cache.
        var (full, presents) = Run(session, ids, 0, layers, kvHeads, headSize, null, outName);
        Assert.Equal(expected.Length, full.Length);
        var maxDiff = expected.Zip(full, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{Path.GetFileName(dir)}: max |onnx - torch| = {maxDiff:g3} over {expected.Length} values");
        Assert.True(maxDiff <= Tolerance, $"{dir}: {outName} differs from PyTorch by {maxDiff}");

        // All but the last token, then the last token against the cache: the contract the engine decodes with.
        var (_, past) = Run(session, ids[..^1], 0, layers, kvHeads, headSize, null, outName);
        var (step, _) = Run(session, ids[^1..], ids.Length - 1, layers, kvHeads, headSize, past, outName);
        var lastExpected = expected[^perPosition..];
        var stepDiff = lastExpected.Zip(step, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(stepDiff <= Tolerance, $"{dir}: cached step differs from PyTorch by {stepDiff}");
        Assert.Equal(layers * 2, presents.Count);
    }

    private static (float[] Output, List<DenseTensor<float>> Presents) Run(InferenceSession session, long[] ids, int pastLength,
        int layers, int kvHeads, int headSize, List<DenseTensor<float>>? past, string outName)
    {
        var s = ids.Length;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, s])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, pastLength + s).ToArray(), [1, pastLength + s])),
            NamedOnnxValue.CreateFromTensor("position_ids", new DenseTensor<long>(Enumerable.Range(pastLength, s).Select(i => (long)i).ToArray(), [1, s])),
        };
        for (var l = 0; l < layers; l++)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{l}.key", past?[2 * l] ?? new DenseTensor<float>([1, kvHeads, 0, headSize])));
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{l}.value", past?[2 * l + 1] ?? new DenseTensor<float>([1, kvHeads, 0, headSize])));
        }
        using var results = session.Run(inputs);
        var byName = results.ToDictionary(r => r.Name);
        var outTensor = byName[outName].AsTensor<float>();
        var presents = new List<DenseTensor<float>>();
        for (var l = 0; l < layers; l++)
        {
            presents.Add(Copy(byName[$"present.{l}.key"].AsTensor<float>()));
            presents.Add(Copy(byName[$"present.{l}.value"].AsTensor<float>()));
        }
        return (outTensor.ToArray(), presents);
    }

    private static DenseTensor<float> Copy(Tensor<float> t) => new(t.ToArray(), t.Dimensions.ToArray());
}
