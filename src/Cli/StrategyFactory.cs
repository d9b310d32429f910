using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;

namespace DecodeAlign.Cli;

/// <summary>Strategy settings taken from the command line, shared by generate and eval.</summary>
internal sealed record StrategySettings
{
    public required string Name { get; init; }
    public int N { get; init; } = 16;
    public int TopK { get; init; }
    public float Beta { get; init; } = 1f;
    public GenerationOptions Generation { get; init; } = new();
}

/// <summary>Maps a strategy name to its class and options; knows which potentials each one needs.</summary>
internal static class StrategyFactory
{
    public static readonly string[] Names = ["greedy", "sample"];

    public static bool NeedsReward(string name) => false;

    public static bool NeedsValue(string name) => false;

    public static void CheckName(string name)
    {
        if (!Names.Contains(name)) throw new CliUsageException($"--strategy must be one of {string.Join(", ", Names)} (got '{name}').");
    }

    public static IDecodingStrategy Create(StrategySettings s, AlignmentModels models, ITokenKernels kernels, Potentials potentials) => s.Name switch
    {
        "greedy" => new SamplingStrategy(models.Lm, kernels, s.Generation with { Sampling = s.Generation.Sampling with { Temperature = 0 } }),
        "sample" => new SamplingStrategy(models.Lm, kernels, s.Generation),
        _ => throw new CliUsageException($"unknown strategy '{s.Name}'."),
    };
}
