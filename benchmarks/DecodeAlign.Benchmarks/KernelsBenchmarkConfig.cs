using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace DecodeAlign.Benchmarks;

/// <summary>Short-run job plus a "Read GB/s" column, shared by the Kernels* benchmarks so their figures sit side by side.</summary>
public sealed class KernelsBenchmarkConfig : ManualConfig
{
    /// <summary>ShortRun (3 warm-ups, 3 iterations) keeps the whole Kernels* run within a few minutes.</summary>
    public KernelsBenchmarkConfig()
    {
        AddJob(Job.ShortRun);
        AddColumn(new KernelsBytesReadColumn());
    }
}

/// <summary>Bytes of input read per operation (set by each benchmark) divided by the mean time, in GB/s (10^9 bytes).</summary>
public sealed class KernelsBytesReadColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(KernelsBytesReadColumn);

    /// <inheritdoc/>
    public string ColumnName => "Read GB/s";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => "Input bytes read per second: rows × vocab × 4 for the kernels, the source array for the bandwidth baselines";

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null) return "NA";
        long bytes = benchmarkCase.Descriptor.Type == typeof(KernelsMemoryBandwidthBenchmarks)
            ? KernelsMemoryBandwidthBenchmarks.Bytes
            : 4L * (int)benchmarkCase.Parameters["Rows"] * (int)benchmarkCase.Parameters["Vocab"];
        return (bytes / stats.Mean).ToString("F2"); // bytes per nanosecond = GB/s
    }
}
