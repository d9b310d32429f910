using DecodeAlign.Models;

namespace DecodeAlign.Decoding;

/// <summary>
/// Checks that the potentials a guided strategy needs are present and live in the LM's token space, so that a wrong
/// combination fails when the strategy is built rather than in the middle of a decode.
/// </summary>
public static class GuideChecks
{
    /// <summary>Throws when <paramref name="guide"/> has another vocabulary than the LM or an output the strategy cannot read.</summary>
    public static void SameTokenSpace(string strategy, string role, DecoderInfo guide, DecoderInfo lm, params DecoderOutputKind[] outputs)
    {
        if (guide.VocabSize != lm.VocabSize)
            throw new ArgumentException($"strategy '{strategy}': the {role} {guide.Source} has a vocabulary of {guide.VocabSize} tokens but the LM {lm.Source} has {lm.VocabSize}; it must score the LM's tokens");
        if (!outputs.Contains(guide.Output))
            throw new ArgumentException($"strategy '{strategy}': the {role} {guide.Source} has a '{guide.Output}' head; it needs {string.Join(" or ", outputs.Select(o => $"'{o}'"))}");
        var width = guide.Output == DecoderOutputKind.Scores ? 1 : guide.VocabSize;
        if (guide.OutputWidth != width)
            throw new ArgumentException($"strategy '{strategy}': the {role} {guide.Source} outputs {guide.OutputWidth} values per position; a '{guide.Output}' head outputs {width}");
    }
}
