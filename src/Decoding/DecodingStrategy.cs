using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding;

/// <summary>
/// What every built-in strategy is made of: the LM, the kernels, sampling and stopping, the potentials and its own
/// options, with the generation options checked before any model runs. Derive from it (or implement
/// <see cref="IDecodingStrategy"/> directly) to write a strategy of your own.
/// </summary>
/// <typeparam name="TOptions">The strategy's options record.</typeparam>
public abstract class DecodingStrategy<TOptions> : IDecodingStrategy
{
    /// <summary>Keeps the parts; throws <see cref="ArgumentException"/> for invalid generation options.</summary>
    protected DecodingStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions generation, Potentials potentials, TOptions options)
    {
        generation.Validate();
        Model = model;
        Kernels = kernels;
        Generation = generation;
        Potentials = potentials;
        Options = options;
    }

    /// <summary>The LM and its tokenizer.</summary>
    protected LanguageModel Model { get; }

    /// <summary>The kernel backend doing the per-token math.</summary>
    protected ITokenKernels Kernels { get; }

    /// <summary>Sampling and stopping.</summary>
    protected GenerationOptions Generation { get; }

    /// <summary>Rewards, scorers, values, baseline policies and answer extractors.</summary>
    protected Potentials Potentials { get; }

    /// <summary>The strategy's own options.</summary>
    protected TOptions Options { get; }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default);
}
