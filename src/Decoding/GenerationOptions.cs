using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding;

/// <summary>How responses are sampled and when they stop; shared by every strategy that samples from the LM.</summary>
public sealed record GenerationOptions
{
    /// <summary>Maximum tokens generated per response (the context length may stop it sooner).</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Temperature, top-k, top-p, min-p, penalties and the seed; temperature 0 is greedy.</summary>
    public SamplingParameters Sampling { get; init; } = new();

    /// <summary>Texts that end a response as soon as its decoded text contains one; the stop text is removed from the output.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>When true, EOS tokens are sampled like any other token and do not stop generation.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException($"max new tokens must be >= 1 (got {MaxNewTokens})");
        if (StopStrings.Any(string.IsNullOrEmpty)) throw new ArgumentException("stop strings must not be empty");
        Sampling.Validate();
    }
}
