using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Tests;

/// <summary>Rewards, twists and answers on the toy world for the best-of-N and SMC definition tests.</summary>
internal static class ToyPotentials
{
    /// <summary>Reward of a response text: many ties (it only counts letters), so tie handling is exercised.</summary>
    public static float TiedReward(string text) => text.Count(ch => ch == 'a') - 0.5f * text.Count(ch => ch == 'c');

    /// <summary>The toy tokenizer decodes tokens separated by spaces; the rewards read the letters only.</summary>
    private static string Letters(string text) => text.Replace(" ", "");

    /// <summary>Reward of a response text with distinct values for most responses.</summary>
    public static float Reward(string text)
    {
        text = Letters(text);
        float r = 0;
        for (var i = 0; i < text.Length; i++) r += (text[i] - 'a' - 0.8f) * (1.3f - 0.4f * i);
        return r + 0.2f * text.Length;
    }

    /// <summary>A twist ψ over (BOS, response prefix): informative about <see cref="Reward"/> but not exact.</summary>
    public static float Twist(IReadOnlyList<int> tokens)
    {
        float s = 0;
        for (var i = 1; i < tokens.Count; i++) s += 0.7f * (tokens[i] - 0.6f) + (tokens[i] == ToyWorld.A ? -0.3f : 0);
        return s;
    }

    /// <summary>Toy answer extractor: the last character, or no answer for an empty response.</summary>
    public static string? LastCharacter(string text) => text.Length == 0 ? null : text[^1..];

    public static ToyScorer RewardModel(Func<string, float> reward) =>
        new(ToyInfo.Create(DecoderOutputKind.Scores, ToyWorld.Vocab, 16, ToyWorld.Eos, "toy-rm"), _ => 0, q => reward(q.Response));

    public static ToyScorer PrefixScorer(Func<IReadOnlyList<int>, float> score) =>
        new(ToyInfo.Create(DecoderOutputKind.Scores, ToyWorld.Vocab, 16, ToyWorld.Eos, "toy-prefix"), score);

    /// <summary>Every response's text and its probability under the toy LM (temperature 1, MaxLength tokens).</summary>
    public static (string[] Texts, double[] P) Responses()
    {
        var all = ToyWorld.AllResponses();
        return ([.. all.Select(ToyWorld.Text)], [.. all.Select(r => Math.Exp(ToyWorld.LogProbability(r)))]);
    }

    public static int[][] BosPrompts(int count) => Enumerable.Range(0, count).Select(_ => new[] { ToyWorld.Bos }).ToArray();
}
