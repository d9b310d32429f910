using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Models.Tests;

/// <summary>
/// The CUDA execution provider's failure is one line that names the fix for the ONNX Runtime package this build has: the
/// GPU flavour (-p:OnnxRuntimeFlavor=Gpu) with the CPU package, the host's CUDA libraries with the GPU package.
/// </summary>
public sealed class OnnxRuntimeFlavorTests
{
    private static readonly string AnyModel = Path.Combine(SharedModels.RepoRoot, "tests", "fixtures", "tiny-classifier", "model.onnx");

    [Fact]
    public void Cuda_request_without_cuda_is_one_line_naming_the_fix()
    {
        ModelException ex;
        try
        {
            using var session = OnnxSessionFactory.Create(AnyModel, new OnnxModelOptions { Provider = ExecutionProvider.Cuda });
            return; // a machine where the GPU flavour finds CUDA: nothing to check
        }
        catch (ModelException e)
        {
            ex = e;
        }
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains("CUDA execution provider", ex.Message);
        if (OnnxSessionFactory.CudaProviderInPackage())
        {
            Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", ex.Message);
            Assert.Contains("native/README.md", ex.Message);
        }
        else
        {
            Assert.Contains("-p:OnnxRuntimeFlavor=Gpu", ex.Message);
        }
    }

    [Fact]
    public void Gpu_package_message_names_the_missing_host_libraries()
    {
        var m = OnnxSessionFactory.CudaUnavailableMessage(gpuPackage: true, ["libcudart.so.13 (CUDA 13 runtime)"], "Failed to load shared library");
        Assert.Contains("not found here: libcudart.so.13 (CUDA 13 runtime)", m);
        Assert.Contains("--execution-provider cpu", m);
        Assert.EndsWith("(ONNX Runtime said: Failed to load shared library)", m);
        Assert.DoesNotContain("not found here", OnnxSessionFactory.CudaUnavailableMessage(gpuPackage: true, [], "x"));
    }

    [Fact]
    public void Cpu_package_has_no_cuda_provider_unless_built_as_the_gpu_flavour()
    {
        // The test assemblies build in the default flavour; CI builds the GPU flavour separately (.ci/run).
        var flavour = typeof(OnnxRuntimeFlavorTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "OnnxRuntimeFlavor")?.Value;
        Assert.Equal(flavour == "Gpu", OnnxSessionFactory.CudaProviderInPackage());
    }
}
