using DecodeAlign.Kernels;

namespace DecodeAlign.Kernels.Tests;

public class BackendSelectionTests
{
    [Theory]
    [InlineData("auto", KernelBackendKind.Auto)]
    [InlineData("cuda", KernelBackendKind.Cuda)]
    [InlineData("ILGPU-CPU", KernelBackendKind.IlgpuCpu)]
    [InlineData("cpu", KernelBackendKind.Cpu)]
    public void ParsesCliNames(string name, KernelBackendKind kind)
    {
        Assert.Equal(kind, KernelBackends.Parse(name));
        Assert.Equal(name.ToLowerInvariant(), KernelBackends.ToName(kind));
    }

    [Fact]
    public void UnknownNameListsTheValidOnes() =>
        Assert.Contains("auto, cuda, ilgpu-cpu, cpu", Assert.Throws<ArgumentException>(() => KernelBackends.Parse("gpu")).Message);

    [Fact]
    public void AutoPicksCudaOnlyWhereADeviceExists()
    {
        using var k = KernelBackends.Create(KernelBackendKind.Auto);
        Assert.Equal(KernelBackends.CudaAvailable() ? KernelBackendKind.Cuda : KernelBackendKind.Cpu, k.Kind);
    }

    [Fact]
    public void CudaWithoutDeviceFailsClearly()
    {
        if (KernelBackends.CudaAvailable()) return; // nothing to check on a machine with a GPU
        var ex = Assert.Throws<BackendUnavailableException>(() => KernelBackends.Create("cuda"));
        Assert.Contains("no CUDA device", ex.Message);
    }

    [Fact]
    public void ParametersAreValidatedWithClearMessages()
    {
        Assert.Contains("temperature must be >= 0", Assert.Throws<ArgumentException>(() => new SamplingParameters { Temperature = -1 }.Validate()).Message);
        Assert.Contains("(got -1)", Assert.Throws<ArgumentException>(() => new SamplingParameters { Temperature = -1 }.Validate()).Message);
        Assert.Contains("top-p must be in (0, 1]", Assert.Throws<ArgumentException>(() => new SamplingParameters { TopP = 0 }.Validate()).Message);
        Assert.Contains("top-k must be >= 0", Assert.Throws<ArgumentException>(() => new SamplingParameters { TopK = -2 }.Validate()).Message);
        Assert.Contains("min-p", Assert.Throws<ArgumentException>(() => new SamplingParameters { MinP = 2 }.Validate()).Message);
        Assert.Contains("repetition penalty", Assert.Throws<ArgumentException>(() => new SamplingParameters { RepetitionPenalty = 0 }.Validate()).Message);
        new SamplingParameters { Temperature = 0, TopK = 3, TopP = 0.5f, MinP = 0.1f }.Validate();
    }
}
