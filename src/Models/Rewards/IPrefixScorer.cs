namespace DecodeAlign.Models.Rewards;

/// <summary>
/// A decoder that scores every prefix in the LM's token space (a reward model exported with one score per position):
/// its sessions fork, reorder and truncate like the LM's, and score k candidate next tokens of many rows in one
/// batched call that reuses the prefix cache (ARGS, blockwise decoding, SMC twists, early pruning).
/// </summary>
public interface IPrefixScorer : IDisposable
{
    /// <summary>Shape of the scorer; <see cref="DecoderInfo.OutputWidth"/> is 1.</summary>
    DecoderInfo Info { get; }

    /// <summary>Creates an empty session whose outputs are each row's score at its last token.</summary>
    IDecoderSession CreateSession();
}
