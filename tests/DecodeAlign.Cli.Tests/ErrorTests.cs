namespace DecodeAlign.Cli.Tests;

/// <summary>User errors exit non-zero with one specific line and no stack trace.</summary>
public sealed class ErrorTests
{
    [Fact]
    public void Missing_model_folder_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "decodealign-no-such-model");
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", missing, "--prompt", "x"), missing, "no such file or folder");
    }

    [SharedFact]
    public void Bad_sampling_options_are_rejected_before_loading()
    {
        var model = SharedModels.PathOf("tiny-random-llama-fp16");
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", model, "--top-p", "1.5"), "top-p");
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", model, "--temperature", "0"), "--temperature");
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", model, "--backend", "tpu"), "--backend");
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", model, "--max-new-tokens", "0"), "max new tokens");
    }

    [SharedFact]
    public void Prompt_over_the_context_length_is_rejected()
    {
        var prompt = string.Concat(Enumerable.Repeat("hello world ", 1100));
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", SharedModels.PathOf("tiny-random-llama-fp16"), "--prompt", prompt), "context length is 2048");
    }

    [SharedFact]
    public void Cuda_execution_provider_without_the_gpu_library_says_what_to_install()
    {
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", SharedModels.PathOf("tiny-random-llama-fp16"), "--execution-provider", "cuda"),
            "CUDA execution provider", "Microsoft.ML.OnnxRuntime.Gpu");
    }

    [SharedFact]
    public void Tokenizer_larger_than_the_model_vocabulary_is_a_mismatch()
    {
        var dir = Directory.CreateTempSubdirectory("decodealign-mismatch-").FullName;
        try
        {
            foreach (var f in new[] { "model.onnx", "model.onnx.data", "genai_config.json" })
                File.Copy(SharedModels.PathOf("tiny-random-llama-fp16", f), Path.Combine(dir, f));
            File.Copy(SharedModels.PathOf("gpt2-tokenizer", "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            CliRunner.AssertUserError(CliRunner.Run("generate", "--model", dir, "--prompt", "hi"), "tokenizer.json", "50295", "32000");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [PythonTorchFact]
    public void NaN_logits_are_reported()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "lm", "--nan");
        CliRunner.AssertUserError(CliRunner.Run("generate", "--model", dir, "--prompt", "hi"), "NaN", "'logits'");
    }

    [SharedPythonFact]
    public void Import_of_a_missing_checkpoint_is_reported()
    {
        CliRunner.AssertUserError(CliRunner.Run("import-llama2c", "--checkpoint", "/nonexistent.bin", "--tokenizer", SharedModels.PathOf("stories260K", "tok512.bin"), "--out", Path.GetTempPath()),
            "/nonexistent.bin");
    }

    [Theory]
    [InlineData("eval", "calc,bogus=2", "unknown reward 'bogus' in term 'bogus=2'")]
    [InlineData("eval", "likelihood=NaN", "term 'likelihood=NaN': the weight must be finite")]
    [InlineData("generate", "calc=-1", "term 'calc=-1': a negative weight is meaningful only for keyword rewards")]
    [InlineData("eval", "/tmp/decodealign-no-such-reward,calc", "term '/tmp/decodealign-no-such-reward': no such reward model folder")]
    [InlineData("generate", "length:many", "term 'length:many': length:N needs a whole number")]
    public void A_bad_reward_spec_is_one_error_naming_the_term_before_any_model_runs(string verb, string spec, string message)
    {
        // A model path that does not exist shows that the SPEC is checked before anything loads.
        var r = CliRunner.Run(verb, "--strategy", "bon", "--reward", spec, "--model", "/tmp/decodealign-no-such-lm");
        Assert.Equal(2, r.ExitCode);
        CliRunner.AssertUserError(r, "--reward", message);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
