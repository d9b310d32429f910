using System.Text.Json;

namespace DecodeAlign.Cli.Tests;

/// <summary>End to end through the CLI: llama2.c import, greedy reproduction of llama2.c, sampling determinism.</summary>
public sealed class GenerateTests
{
    private static string Ids(JsonElement tokens) => string.Join(',', tokens.EnumerateArray().Select(t => t.GetInt32()));

    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [SharedPythonFact]
    public void Imported_stories260K_greedy_from_BOS_reproduces_llama2c_exactly()
    {
        var expected = File.ReadAllText(SharedModels.PathOf("stories260K", "greedy-200.txt"));
        var json = Json(CliRunner.Run("generate", "--model", ImportedStories.Path, "--prompt", "", "--strategy", "greedy", "--max-new-tokens", "200", "--json"));
        Assert.Equal(expected, json.GetProperty("text").GetString());
        Assert.Equal(200, json.GetProperty("tokens").GetArrayLength());
        var stats = json.GetProperty("stats");
        Assert.True(stats.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.True(stats.GetProperty("prefill_ms").GetDouble() > 0);
        Assert.True(stats.GetProperty("per_token_ms").GetDouble() > 0);
    }

    [SharedPythonFact]
    public void Streamed_text_equals_the_json_text()
    {
        var json = Json(CliRunner.Run("generate", "--model", ImportedStories.Path, "--prompt", "Once upon a time", "--strategy", "greedy", "--max-new-tokens", "60", "--json"));
        var streamed = CliRunner.Run("generate", "--model", ImportedStories.Path, "--prompt", "Once upon a time", "--strategy", "greedy", "--max-new-tokens", "60");
        Assert.Equal(0, streamed.ExitCode);
        Assert.Equal(json.GetProperty("text").GetString() + "\n", streamed.Stdout);
        Assert.Contains("tok/s", streamed.Stderr);
    }

    [SharedPythonFact]
    public void A_seed_fixes_the_sample_and_a_prompt_sample_does_not_depend_on_the_batch()
    {
        string[] args = ["generate", "--model", ImportedStories.Path, "--prompt", "Lily", "--strategy", "sample", "--max-new-tokens", "40", "--seed", "11", "--json", "--backend", "cpu"];
        var one = Ids(Json(CliRunner.Run(args)).GetProperty("tokens"));
        Assert.Equal(one, Ids(Json(CliRunner.Run(args)).GetProperty("tokens")));
        var eight = Json(CliRunner.Run([.. args, "--num-samples", "8"]));
        var samples = eight.GetProperty("samples").EnumerateArray().Select(s => Ids(s.GetProperty("tokens"))).ToArray();
        Assert.Equal(8, samples.Length);
        Assert.Equal(one, samples[0]);
        Assert.True(samples.Distinct().Count() > 4, "different rows must draw different samples");
        var other = Ids(Json(CliRunner.Run([.. args[..^4], "12", "--json", "--backend", "cpu"])).GetProperty("tokens"));
        Assert.NotEqual(one, other);
    }

    [SharedPythonFact]
    public void Sampled_tokens_are_identical_on_the_simd_and_ilgpu_backends_and_batch_sizes()
    {
        string[] args = ["generate", "--model", ImportedStories.Path, "--prompt", "Lily", "--strategy", "sample", "--max-new-tokens", "24", "--seed", "3",
            "--temperature", "0.9", "--top-k", "40", "--top-p", "0.9", "--json"];
        var cpu = Json(CliRunner.Run([.. args, "--backend", "cpu"]));
        var ilgpu = Json(CliRunner.Run([.. args, "--backend", "ilgpu-cpu"]));
        Assert.Equal("Cpu", cpu.GetProperty("backend").GetString());
        Assert.Equal("IlgpuCpu", ilgpu.GetProperty("backend").GetString());
        Assert.Equal(Ids(cpu.GetProperty("tokens")), Ids(ilgpu.GetProperty("tokens")));
        var cpu8 = Json(CliRunner.Run([.. args, "--backend", "cpu", "--num-samples", "8"])).GetProperty("samples").EnumerateArray().Select(x => Ids(x.GetProperty("tokens"))).ToArray();
        var ilgpu8 = Json(CliRunner.Run([.. args, "--backend", "ilgpu-cpu", "--num-samples", "8"])).GetProperty("samples").EnumerateArray().Select(x => Ids(x.GetProperty("tokens"))).ToArray();
        Assert.Equal(cpu8, ilgpu8);
        Assert.Equal(Ids(cpu.GetProperty("tokens")), cpu8[0]);
    }

    [SharedPythonFact]
    public void Stop_strings_end_generation_and_are_removed()
    {
        var json = Json(CliRunner.Run("generate", "--model", ImportedStories.Path, "--strategy", "greedy", "--max-new-tokens", "200", "--stop", "Lily", "--json"));
        Assert.Equal("Once upon a time, there was a little girl named ", json.GetProperty("text").GetString());
        Assert.Equal("StopString", json.GetProperty("finish_reason").GetString());
    }
}
