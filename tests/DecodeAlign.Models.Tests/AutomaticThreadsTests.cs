using DecodeAlign.Models.Onnx;
using Xunit;

namespace DecodeAlign.Models.Tests;

/// <summary>The automatic intra-op thread count (--threads 0): one thread only for a small model decoding few rows.</summary>
public class AutomaticThreadsTests
{
    [Theory]
    [InlineData(4_000_000L, 0L, false)]       // a built-in model decoding one row
    [InlineData(4_000_000L, 63L, false)]
    [InlineData(4_000_000L, 64L, true)]       // best-of-16 over 4 prompts and wider
    [InlineData(4_000_000L, 256L, true)]
    [InlineData(32L << 20, 0L, true)]         // a model of 32 MB or more, even for one row
    [InlineData(536_000_000L, 1L, true)]
    public void Small_models_run_one_thread_unless_the_calls_are_wide(long weightBytes, long rows, bool everyProcessor) =>
        Assert.Equal(everyProcessor ? Environment.ProcessorCount : 1, OnnxSessionFactory.AutomaticThreads(weightBytes, rows));

    [Fact]
    public void Negative_expected_rows_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new OnnxModelOptions { ExpectedRows = -1 }.Validate());
        Assert.Contains("expected rows must be >= 0", e.Message);
    }
}
