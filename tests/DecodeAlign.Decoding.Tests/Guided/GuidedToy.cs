using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// Guides over the toy world for the guided strategies: a prefix reward R and two value models whose values are
/// explicit functions of the tokens, chosen so that guidance changes the LM's choices and centring matters
/// (the values have large offsets), plus exact per-step targets computed from them by enumeration.
/// </summary>
internal static class GuidedToy
{
    /// <summary>Toy states (prefixes, BOS first) at which per-step token distributions are checked.</summary>
    public static readonly int[][] States = [[Bos], [Bos, A], [Bos, C, B]];

    /// <summary>Prefix reward: likes b, dislikes a, likes ending on c, dislikes EOS right after a (constants avoid ties in s).</summary>
    public static float Reward(IReadOnlyList<int> tokens)
    {
        float r = 0.17f;
        for (var i = 1; i < tokens.Count; i++)
            r += tokens[i] switch { B => 0.83f, A => -0.47f, C => 0.13f, _ => 0f };
        if (tokens[^1] == C) r += 0.61f;
        if (tokens[^1] == Eos && tokens.Count > 1 && tokens[^2] == A) r -= 0.71f;
        return r;
    }

    /// <summary>First value model: V1(s, a), offset +2 so that skipping the centring shifts the top-k against the rest.</summary>
    public static float[] Values1(IReadOnlyList<int> s)
    {
        var len = s.Count - 1;
        return [2.0f - 0.3f * len, 2.9f, 1.6f + 0.2f * len, 2.0f, s[^1] == B ? 2.8f : 1.2f];
    }

    /// <summary>Second value model: V2(s, a), offset −1, likes repeating the last token.</summary>
    public static float[] Values2(IReadOnlyList<int> s)
    {
        var v = new float[] { -1.2f, -0.4f, 0.3f, -1f, -0.9f };
        if (s[^1] < Vocab) v[s[^1]] += 1.1f;
        return v;
    }

    public static ToyScorer Scorer(int context = 16) => new(ToyInfo.Create(DecoderOutputKind.Scores, Vocab, context, Eos, "toy-reward"), Reward);

    public static ToyValueModel Value(Func<IReadOnlyList<int>, float[]> values, string name) =>
        new(ToyInfo.Create(DecoderOutputKind.Values, Vocab, 16, Eos, name), values);

    /// <summary>Top-k ids of a logits row by (value desc, id asc), as the kernels order them.</summary>
    public static int[] TopK(float[] logits, int k) =>
        Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k).ToArray();

    public static double[] Softmax(double[] x)
    {
        var max = x.Where(double.IsFinite).Max();
        var e = x.Select(v => double.IsFinite(v) ? Math.Exp(v - max) : 0).ToArray();
        var z = e.Sum();
        return e.Select(v => v / z).ToArray();
    }

    /// <summary>Decodes one token from each of <paramref name="copies"/> copies of every state and counts the outcomes per state (EOS = <see cref="Eos"/>).</summary>
    public static long[][] CountNextTokens(IDecodingStrategy strategy, int copies)
    {
        var prompts = States.SelectMany(s => Enumerable.Repeat(s, copies)).ToArray();
        var results = strategy.Decode(prompts);
        var counts = States.Select(_ => new long[Vocab]).ToArray();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            counts[i / copies][r.Finish == FinishReason.EndOfSequence ? Eos : r.Tokens.Single()]++;
        }
        return counts;
    }

    /// <summary>The smallest chi-square p-value over the states of <paramref name="counts"/> against per-state targets.</summary>
    public static double MinPValue(long[][] counts, Func<int[], double[]> target) =>
        States.Select((s, i) => Statistics.ChiSquare(counts[i], target(s)).PValue).Min();
}

/// <summary>A value model with a scalar head: V(s, a) is the score of s extended by a.</summary>
internal sealed class ScalarToyValueModel(Func<IReadOnlyList<int>, float> score) : IValueModel
{
    public DecoderInfo Info { get; } = ToyInfo.Create(DecoderOutputKind.Scores, ToyWorld.Vocab, 16, ToyWorld.Eos, "toy-scalar-value");

    public IDecoderSession CreateSession() => new FunctionDecoderSession(Info, t => [score(t)]);

    public void Dispose() { }
}
