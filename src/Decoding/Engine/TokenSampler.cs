using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Engine;

/// <summary>
/// Draws every row's next token in one kernel call with the request's sampling parameters; when they include
/// repetition penalties, each row's generated tokens so far are its history. The one place the penalty history is
/// assembled, for the engine loop and for strategies that sample blocks or particles themselves.
/// </summary>
public sealed class TokenSampler(ITokenKernels kernels, int vocab, SamplingParameters sampling)
{
    private readonly bool _usePenalties = sampling.HasPenalties && sampling.Temperature > 0;

    /// <summary>Writes row i's token to <paramref name="tokens"/>[i], drawn with <paramref name="keys"/>[i]; <paramref name="history"/>(i) gives row i's generated tokens.</summary>
    public void Draw(ReadOnlySpan<float> logits, ReadOnlySpan<SampleKey> keys, Span<int> tokens, Func<int, IEnumerable<int>> history)
    {
        if (!_usePenalties)
        {
            kernels.Sample(logits, vocab, sampling, keys, tokens);
            return;
        }
        var all = new List<int>();
        var offsets = new int[keys.Length + 1];
        for (var i = 0; i < keys.Length; i++)
        {
            all.AddRange(history(i));
            offsets[i + 1] = all.Count;
        }
        kernels.Sample(logits, vocab, sampling, keys, tokens, all.ToArray(), offsets);
    }
}
