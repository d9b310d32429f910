using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding;

/// <summary>Everything a catalog entry needs to build a strategy: the model, kernels, sampling and stopping, potentials and option values.</summary>
public sealed record StrategyRequest
{
    /// <summary>The LM and its tokenizer.</summary>
    public required LanguageModel Model { get; init; }

    /// <summary>The kernel backend.</summary>
    public required ITokenKernels Kernels { get; init; }

    /// <summary>Sampling (temperature, filters, seed) and stopping.</summary>
    public GenerationOptions Generation { get; init; } = new();

    /// <summary>Rewards, scorers, values, baseline policies and answer extractors.</summary>
    public Potentials Potentials { get; init; } = Potentials.None;

    /// <summary>Option values by name (see <see cref="StrategyEntry.Options"/>); missing ones take the entry's defaults.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    /// <summary>A temperature the caller set explicitly; strategies that choose greedily by default (args) only sample when it is given.</summary>
    public float? ExplicitTemperature { get; init; }

    /// <summary>Receives (prompt index, text) as text becomes final, for strategies that stream.</summary>
    public Action<int, string>? OnText { get; init; }
}
