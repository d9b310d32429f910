namespace DecodeAlign.Decoding;

/// <summary>
/// One decoding algorithm (sampling, best-of-N, ARGS, VAS, QAlign, SMC): configured by its options record when
/// constructed, run on a batch of prompts. Cancellation stops it within one decoding step and returns what it has.
/// </summary>
public interface IDecodingStrategy
{
    /// <summary>Short name used by the CLI and in traces (e.g. "sample", "bon", "qalign").</summary>
    string Name { get; }

    /// <summary>Decodes every prompt (token ids, BOS included) and returns one result per prompt, in order.</summary>
    IReadOnlyList<DecodeResult> Decode(IReadOnlyList<int[]> prompts, CancellationToken cancellationToken = default);
}
