namespace DecodeAlign.Decoding;

/// <summary>What a strategy did for one prompt: the candidates or chain states it considered and the compute it used.</summary>
public sealed record DecodeTrace
{
    /// <summary>Name of the strategy that produced the result.</summary>
    public required string Strategy { get; init; }

    /// <summary>Candidates (best-of-N), chain states (QAlign) or particles (SMC), in the order produced.</summary>
    public IReadOnlyList<CandidateTrace> Candidates { get; init; } = [];

    /// <summary>Fraction of Metropolis–Hastings proposals accepted (QAlign), else null.</summary>
    public double? AcceptanceRate { get; init; }

    /// <summary>QAlign: response tokens each MCMC step's proposals sampled after their cut points, summed over the prompt's chains (entry s − 1 for step s), else null.</summary>
    public IReadOnlyList<long>? RegeneratedTokens { get; init; }

    /// <summary>Compute spent by each model.</summary>
    public required ComputeTrace Compute { get; init; }

    /// <summary>SMC's estimate of log Z (exp of it is unbiased for the normalising constant Z), else null.</summary>
    public double? LogNormalizer { get; init; }

    /// <summary>Speculative LM steps (ARGS): fraction of row-steps whose guess, the LM's top token, was the chosen one, else null.</summary>
    public double? SpeculationHitRate { get; init; }
}

/// <summary>One candidate response considered by a strategy.</summary>
/// <param name="Tokens">Its generated tokens.</param>
/// <param name="Text">Its text.</param>
/// <param name="Reward">Its reward, if scored.</param>
/// <param name="Answer">The task answer extracted from it, if the strategy votes.</param>
/// <param name="Accepted">For chain states: whether this proposal was accepted.</param>
public sealed record CandidateTrace(int[] Tokens, string Text, double? Reward = null, string? Answer = null, bool? Accepted = null)
{
    /// <summary>For SMC particles: the normalised importance weight at the end (weights of a prompt's particles sum to 1).</summary>
    public double? Weight { get; init; }
}

/// <summary>Tokens computed, model calls and time per model.</summary>
/// <param name="LmTokens">Tokens run through the base LM (prompt and generated, not padding).</param>
/// <param name="LmCalls">Base LM invocations.</param>
/// <param name="RewardTokens">Tokens run through reward, value or prefix-scoring models.</param>
/// <param name="RewardCalls">Reward, value or prefix-scorer invocations.</param>
/// <param name="GeneratedTokens">Tokens sampled (including discarded candidates and rejected proposals).</param>
/// <param name="ModelTime">Time inside ONNX Runtime.</param>
/// <param name="WallTime">Wall time of the whole decode.</param>
/// <param name="PrefillTime">Wall time of the first LM call, which runs the prompts.</param>
public sealed record ComputeTrace(long LmTokens, long LmCalls, long RewardTokens, long RewardCalls, long GeneratedTokens, TimeSpan ModelTime, TimeSpan WallTime, TimeSpan PrefillTime);
