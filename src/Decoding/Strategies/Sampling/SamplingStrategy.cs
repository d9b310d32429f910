using System.Diagnostics;
using DecodeAlign.Decoding.Engine;
using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>
/// Plain decoding, the baseline every alignment strategy is compared with: ancestral sampling
/// y_t ~ softmax(filter(logits_t) / τ) with top-k / top-p / min-p filters, or greedy y_t = argmax logits_t when τ = 0.
/// All prompts run as one batch: prefill in one call, then one call per step.
/// </summary>
public sealed class SamplingStrategy : IDecodingStrategy
{
    private readonly LanguageModel _model;
    private readonly ITokenKernels _kernels;
    private readonly GenerationOptions _options;

    /// <summary>Creates the strategy; throws <see cref="ArgumentException"/> for invalid options before any model runs.</summary>
    public SamplingStrategy(LanguageModel model, ITokenKernels kernels, GenerationOptions options)
    {
        options.Validate();
        _model = model;
        _kernels = kernels;
        _options = options;
    }

    /// <inheritdoc />
    public string Name => _options.Sampling.Temperature == 0 ? "greedy" : "sample";

    /// <summary>Receives (prompt index, text) as each response's text becomes final, for streaming to a console.</summary>
    public Action<int, string>? OnText { get; init; }

    /// <summary>
    /// Decodes every prompt; prompt i draws its random numbers with row id i, so a prompt's response does not depend
    /// on the batch size (the first of eight copies of a prompt equals that prompt decoded alone).
    /// </summary>
    public IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        using var session = _model.Lm.CreateSession();
        foreach (var p in prompts) session.AddRow(p);
        var keys = Enumerable.Range(0, prompts.Count).Select(i => new SampleKey(i, 0)).ToArray();
        var generator = new RolloutEngine(_model, _kernels, _options) { OnText = OnText };
        var generated = generator.Generate(session, keys, cancellationToken);
        wall.Stop();
        var compute = ComputeMeter.Trace(session, [], generated.Sum(g => g.Tokens.Count), wall.Elapsed, generator.PrefillTime);
        return generated.Select(g => new DecodeResult([.. g.Tokens], g.Text, g.Finish, null,
            new DecodeTrace { Strategy = Name, Compute = compute })).ToArray();
    }
}
