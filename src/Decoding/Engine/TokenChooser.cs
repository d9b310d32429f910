using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Engine;

/// <summary>
/// Picks every live row's next token from the LM's next-token logits (a read-only view), using guide sessions kept
/// in lockstep with the LM session by <see cref="RolloutEngine"/>. Writes the token and the guide's score of
/// the row extended by it (NaN where the strategy has no such score).
/// </summary>
public delegate void TokenChooser(RowOutputs logits, ReadOnlySpan<SampleKey> keys, Span<int> tokens, Span<float> scores, CancellationToken cancellationToken);
