namespace DecodeAlign.Models.Rewards;

/// <summary>
/// Token-level values V(s, a) for value-augmented sampling (Han et al. 2024): with a vocabulary-wide head one run
/// at state s yields V(s, a) for every next token a; with a scalar head, V(s, a) is the score after appending a.
/// </summary>
public interface IValueModel : IDisposable
{
    /// <summary>Shape of the model; <see cref="DecoderInfo.Output"/> tells which head it has.</summary>
    DecoderInfo Info { get; }

    /// <summary>Creates an empty session over the model (rows of tokens in the LM's token space).</summary>
    IDecoderSession CreateSession();
}
