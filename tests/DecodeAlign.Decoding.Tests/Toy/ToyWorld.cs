using System.Text.Json;
using DecodeAlign.Models;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Decoding.Tests.Toy;

/// <summary>
/// A tiny world whose every distribution is computable by enumeration: tokens <c>a</c>, <c>b</c>, <c>c</c> (ids 0–2),
/// BOS (3) and EOS (4); responses of at most <see cref="MaxLength"/> tokens. The LM's logits are a fixed function
/// of the prefix, so p_LM(y) is a product of softmaxes that tests compute exactly.
/// </summary>
internal static class ToyWorld
{
    public const int A = 0, B = 1, C = 2, Bos = 3, Eos = 4, Vocab = 5;

    /// <summary>Longest response (tokens, EOS excluded) the tests use as MaxNewTokens.</summary>
    public const int MaxLength = 3;

    private static readonly Lazy<TextTokenizer> LazyTokenizer = new(CreateTokenizer);

    public static TextTokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>Next-token logits after a prefix (BOS first): depends on the last token and the length, never uniform.</summary>
    public static float[] Logits(IReadOnlyList<int> prefix)
    {
        var last = prefix[^1];
        var len = prefix.Count - 1;
        var l = new float[Vocab];
        l[A] = 0.3f + 0.2f * len - (last == A ? 0.7f : 0);
        l[B] = 0.1f + (last == C ? 0.9f : -0.2f);
        l[C] = -0.4f + 0.5f * (last == B ? 1 : 0) + 0.1f * len;
        l[Bos] = float.NegativeInfinity;
        l[Eos] = -0.5f + 0.6f * len;
        return l;
    }

    public static DecoderInfo LmInfo(int context = 16) => ToyInfo.Create(DecoderOutputKind.Logits, Vocab, context, Eos, "toy-lm");

    public static LanguageModel CreateLm(int context = 16) => new(new ToyLm(LmInfo(context), Logits), Tokenizer);

    /// <summary>Every response of 0..maxLength tokens over {a, b, c}, as token lists (EOS not included).</summary>
    public static List<int[]> AllResponses(int maxLength = MaxLength)
    {
        var all = new List<int[]> { Array.Empty<int>() };
        var frontier = new List<int[]> { Array.Empty<int>() };
        for (var n = 1; n <= maxLength; n++)
        {
            frontier = frontier.SelectMany(r => new[] { A, B, C }.Select(t => (int[])[.. r, t])).ToList();
            all.AddRange(frontier);
        }
        return all;
    }

    /// <summary>log p_LM(y | BOS) for a response that ends with EOS, or is cut at <paramref name="maxLength"/> tokens (where no EOS is drawn).</summary>
    public static double LogProbability(int[] response, int maxLength = MaxLength, float temperature = 1f)
    {
        var prefix = new List<int> { Bos };
        double lp = 0;
        foreach (var t in response.Append(Eos))
        {
            if (prefix.Count - 1 == maxLength) break; // max tokens reached: no EOS step
            lp += LogSoftmax(Logits(prefix), temperature)[t];
            prefix.Add(t);
        }
        return lp;
    }

    public static double[] LogSoftmax(float[] logits, float temperature = 1f)
    {
        var max = logits.Where(float.IsFinite).Max() / temperature;
        var z = Math.Log(logits.Where(float.IsFinite).Sum(x => Math.Exp(x / temperature - max))) + max;
        return logits.Select(x => float.IsFinite(x) ? x / temperature - z : double.NegativeInfinity).ToArray();
    }

    /// <summary>Text of a response in the toy tokenizer.</summary>
    public static string Text(IEnumerable<int> response) => string.Concat(response.Select(t => "abc"[t]));

    private static TextTokenizer CreateTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("decodealign-toy-tok-").FullName;
        var doc = new Dictionary<string, object?>
        {
            ["version"] = "1.0",
            ["added_tokens"] = new object[]
            {
                new Dictionary<string, object> { ["id"] = Bos, ["content"] = "<s>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true },
                new Dictionary<string, object> { ["id"] = Eos, ["content"] = "</s>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true },
            },
            ["normalizer"] = null,
            ["pre_tokenizer"] = null,
            ["decoder"] = null,
            ["model"] = new Dictionary<string, object?>
            {
                ["type"] = "BPE",
                ["vocab"] = new Dictionary<string, int> { ["a"] = A, ["b"] = B, ["c"] = C, ["<s>"] = Bos, ["</s>"] = Eos },
                ["merges"] = Array.Empty<string>(),
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), JsonSerializer.Serialize(doc));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true}""");
        return TextTokenizer.Load(dir);
    }
}
