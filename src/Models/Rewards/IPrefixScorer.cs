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

    /// <summary>
    /// When the model also has a vocabulary-wide candidate head: an empty session whose output per row is, for every
    /// token v, the score of the row extended by v — what <see cref="IDecoderSession.ForwardCandidates"/> computes for k
    /// candidates with k rows, from one row. Null when the model has no such head (the default).
    /// </summary>
    IDecoderSession? CreateCandidateSession() => null;
}
