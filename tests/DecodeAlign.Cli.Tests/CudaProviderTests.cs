namespace DecodeAlign.Cli.Tests;

/// <summary>
/// <c>--execution-provider cuda</c> where ONNX Runtime cannot use CUDA (the CPU package, or the GPU package on a host without
/// CUDA) is a user error: exit 2 and one <c>error:</c> line, with nothing ONNX Runtime logs itself around it.
/// </summary>
public sealed class CudaProviderTests
{
    [Fact]
    public void Cuda_provider_without_cuda_exits_2_with_one_line()
    {
        // The built-in model: no ../shared needed.
        var r = CliRunner.Run("generate", "--prompt", "1+1=", "--max-new-tokens", "2", "--backend", "cpu", "--execution-provider", "cuda");
        if (r.ExitCode == 0) return; // the GPU flavour on a machine with CUDA: nothing to check
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains("CUDA execution provider", lines[0]);
        Assert.Contains("--execution-provider cpu", lines[0]);
    }
}
