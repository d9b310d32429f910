namespace DecodeAlign.Models;

/// <summary>
/// A loaded causal language model. Thread-safe: each caller creates its own <see cref="IDecoderSession"/>,
/// which owns a batch of sequences and their KV cache.
/// </summary>
public interface ICausalLm : IDisposable
{
    /// <summary>Shape and special tokens of the model.</summary>
    DecoderInfo Info { get; }

    /// <summary>Creates an empty session (no rows) that shares the model's weights.</summary>
    IDecoderSession CreateSession();
}
