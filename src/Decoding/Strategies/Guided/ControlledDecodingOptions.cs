namespace DecodeAlign.Decoding.Strategies;

/// <summary>Options of blockwise controlled decoding (<see cref="ControlledDecodingStrategy"/>).</summary>
public sealed record ControlledDecodingOptions
{
    /// <summary>Continuations K sampled from the LM for each block; 1 is plain sampling.</summary>
    public int Candidates { get; init; } = 4;

    /// <summary>Tokens M per block (a continuation stops sooner at EOS, a stop string or the token budget).</summary>
    public int BlockSize { get; init; } = 4;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Candidates < 1) throw new ArgumentException($"candidates must be >= 1 (got {Candidates})");
        if (BlockSize < 1) throw new ArgumentException($"block size must be >= 1 (got {BlockSize})");
    }
}
