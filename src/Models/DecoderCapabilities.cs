namespace DecodeAlign.Models;

/// <summary>
/// What a decoder backend offers: full output rows or only the top-k log-probabilities per position, and which
/// <see cref="IDecoderSession"/> operations its sessions support. ONNX decoders offer everything (<see cref="Full"/>);
/// a server that returns top-k log-probabilities over HTTP offers less, and strategies can check before they start.
/// </summary>
public sealed record DecoderCapabilities
{
    /// <summary>Null when each position's output is a full row (logits, values or a score); otherwise the k of the top-k log-probabilities returned instead of logits.</summary>
    public int? TopLogProbs { get; init; }

    /// <summary>Whether each position's output is a full row (<see cref="TopLogProbs"/> is null).</summary>
    public bool FullOutputs => TopLogProbs is null;

    /// <summary>Whether sessions fork, reorder and drop rows with <see cref="IDecoderSession.Select"/>.</summary>
    public bool CanFork { get; init; }

    /// <summary>Whether sessions cut rows back with <see cref="IDecoderSession.Truncate"/> and <see cref="IDecoderSession.Rewind"/>.</summary>
    public bool CanTruncate { get; init; }

    /// <summary>Whether sessions score k candidate next tokens per row in one call with <see cref="IDecoderSession.ForwardCandidates"/>.</summary>
    public bool CanScoreCandidates { get; init; }

    /// <summary>Everything: full output rows, fork/select, truncate/rewind and candidate scoring (what ONNX decoders offer).</summary>
    public static DecoderCapabilities Full { get; } = new() { CanFork = true, CanTruncate = true, CanScoreCandidates = true };

    /// <summary>Only the top-<paramref name="k"/> log-probabilities per position and no session operation; add those a backend has with <c>with</c>.</summary>
    public static DecoderCapabilities TopLogProbsOnly(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return new() { TopLogProbs = k };
    }

    /// <summary>What both offer: operations both support, and the smaller top-k where either returns only top-k log-probabilities.</summary>
    public DecoderCapabilities Intersect(DecoderCapabilities other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new()
        {
            TopLogProbs = TopLogProbs is int a ? (other.TopLogProbs is int b ? Math.Min(a, b) : a) : other.TopLogProbs,
            CanFork = CanFork && other.CanFork,
            CanTruncate = CanTruncate && other.CanTruncate,
            CanScoreCandidates = CanScoreCandidates && other.CanScoreCandidates,
        };
    }
}
