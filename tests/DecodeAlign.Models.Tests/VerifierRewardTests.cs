using System.Text.Json;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Models.Tests;

/// <summary>
/// The committed arith rewards are running sums over the response tokens whose per-position state rides in extra
/// KV-cache layers: the likelihood verifier r = a·Σ log p_LM(y_t | x, y&lt;t) + b, held to that definition against the
/// committed LM, and the learned verifier r = a·Σ log σ(z(y&lt;t)[y_t]) + b of its own step model. For both, the
/// engine's cache operations (ragged left-padded chunks, forks, truncation) and the candidate head must keep every
/// row's score.
/// </summary>
public sealed class VerifierRewardTests
{
    private static readonly string Dir = Path.Combine(SharedModels.RepoRoot, "models", "arith");
    private static readonly OnnxModelOptions OneThread = new() { IntraOpThreads = 1 };
    private static readonly Dictionary<string, Lazy<OnnxDecoderRewardModel>> Rewards = new[] { "likelihood", "verifier" }.ToDictionary(
        name => name, name => new Lazy<OnnxDecoderRewardModel>(() => OnnxDecoderRewardModel.Load(Path.Combine(Dir, name), new RewardModelOptions { Onnx = OneThread })));
    private static readonly Lazy<OnnxDecoderRewardModel> Reward = Rewards["likelihood"];
    private static readonly Lazy<OnnxCausalLm> Lm = new(() => OnnxCausalLm.Load(Path.Combine(Dir, "lm"), OneThread));

    private const string Prompt = "Q: Mia has 12 pens. She buys 7 more pens. Then she gives 5 pens to Leo. How many pens does Mia have now?\nA:";

    private static (double A, double B) Coefficients(string name = "likelihood")
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, name, "config.json")));
        var v = doc.RootElement.GetProperty("decodealign");
        Assert.Equal(name == "likelihood" ? "likelihood_verifier" : "learned_verifier", v.GetProperty("kind").GetString());
        return (v.GetProperty("a").GetDouble(), v.GetProperty("b").GetDouble());
    }

    private static int[] Encode(string text) => Reward.Value.Tokenizer.Encode(text, addSpecialTokens: true);

    public static TheoryData<string> Names => new() { "likelihood", "verifier" };

    /// <summary>Σ log p_LM of the tokens after <paramref name="promptLength"/>, one LM step at a time.</summary>
    private static double LmLogProb(int[] ids, int promptLength)
    {
        using var s = Lm.Value.CreateSession();
        s.AddRow(ids.AsSpan(0, promptLength));
        var logits = s.Forward();
        var total = 0.0;
        for (var t = promptLength; t < ids.Length; t++)
        {
            var row = logits.Row(0);
            var max = double.NegativeInfinity;
            foreach (var x in row) max = Math.Max(max, x);
            var sum = 0.0;
            foreach (var x in row) sum += Math.Exp(x - max);
            total += row[ids[t]] - max - Math.Log(sum);
            s.Append(0, [ids[t]]);
            logits = s.Forward();
        }
        return total;
    }

    [Theory]
    [InlineData(" Mia has 12 pens. 12 + 7 = 19. 19 - 5 = 14. The answer is 14.")]
    [InlineData(" Mia has 12 pens. 12 + 7 = 19. 19 - 5 = 15. The answer is 15.")]
    [InlineData(" Mia has 12 pens. 12 + 7 = 91. 91 - 5 = 86. The answer is 86.")]
    public void Score_is_a_times_the_LMs_response_log_probability_plus_b(string response)
    {
        var (a, b) = Coefficients();
        var prompt = Encode(Prompt);
        var ids = Encode(Prompt + response);
        Assert.Equal(prompt, ids[..prompt.Length]);
        ids = [.. ids, Reward.Value.Tokenizer.Special.Eos!.Value];
        var expected = a * LmLogProb(ids, prompt.Length) + b;
        var score = Reward.Value.ScoreTokens([ids])[0];
        Assert.Equal(expected, score, 2e-3);
        // Over the prompt nothing is summed yet: the score there is b.
        Assert.Equal(b, Reward.Value.ScoreTokens([prompt])[0], 1e-5);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_slipped_digit_scores_below_the_correct_response(string name)
    {
        var reward = Rewards[name].Value;
        var right = reward.Score([new RewardQuery(Prompt, " Mia has 12 pens. 12 + 7 = 19. 19 - 5 = 14. The answer is 14.")])[0];
        var slip = reward.Score([new RewardQuery(Prompt, " Mia has 12 pens. 12 + 7 = 91. 91 - 5 = 86. The answer is 86.")])[0];
        Assert.True(right > slip + 1, $"correct {right} vs slipped {slip}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_candidate_head_gives_every_next_tokens_score_in_one_row(string name)
    {
        var reward = Rewards[name].Value;
        Assert.True(reward.HasCandidateHead);
        var x = Encode(Prompt + " Mia has 12 pens. 12 + 7 = 19.");
        var promptLength = Encode(Prompt).Length;
        int[] candidates = [.. Enumerable.Range(0, reward.Info.VocabSize).Where(v => v % 37 == 0), 32, 49, 57];
        foreach (var length in new[] { promptLength - 1, promptLength, x.Length })
        {
            // k rows, one per candidate (the generic path) ...
            using var narrow = reward.CreateSession();
            narrow.AddRow(x.AsSpan(0, length));
            var perRow = narrow.ForwardCandidates([0], candidates).Values.ToArray();
            // ... against one row's vocabulary-wide output.
            using var wide = reward.CreateCandidateSession()!;
            wide.AddRow(x.AsSpan(0, length));
            var all = wide.Forward().Row(0).ToArray();
            Assert.Equal(reward.Info.VocabSize, all.Length);
            for (var j = 0; j < candidates.Length; j++)
                Assert.Equal(perRow[j], all[candidates[j]], 1e-4);
            // The last prompt token (the ':' of "A:") completes the marker; before it nothing is summed yet.
            if (length < promptLength) Assert.All(all, s => Assert.Equal(Coefficients(name).B, s, 1e-5));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Ragged_chunks_forks_and_truncation_keep_every_rows_score(string name)
    {
        var reward = Rewards[name].Value;
        var x = Encode(Prompt + " Mia has 12 pens. 12 + 7 = 19. 19 - 5 = 14. The answer is 14.");
        var y = Encode("Q: Leo has 5 cars. He loses 2 cars. How many cars does Leo have now?\nA: Leo has 5 cars. 5 - 2 = 3. The answer is 3.");
        var alone = reward.ScoreTokens([x, y]).Select(s => (double)s).ToArray();

        using var s = reward.CreateSession();
        // Ragged: different pending counts per call put padding holes in the middle of each row's cache.
        s.AddRow(x.AsSpan(0, 7));
        s.AddRow(y.AsSpan(0, 30));
        s.Forward();
        s.Append(0, x.AsSpan(7, 33));
        s.Append(1, y.AsSpan(30, 2));
        s.Forward();
        s.Append(0, x.AsSpan(40));
        s.Append(1, y.AsSpan(32));
        var outputs = s.Forward();
        Assert.Equal(alone[0], outputs.Row(0)[0], 1e-4);
        Assert.Equal(alone[1], outputs.Row(1)[0], 1e-4);

        // Fork row 0 twice, truncate one copy into the response and regrow it (what QAlign does).
        s.Select([0, 0, 1]);
        var cut = x.Length - 9;
        s.Truncate(1, cut);
        var regrown = reward.ScoreTokens([x[..cut]])[0];
        outputs = s.Forward();
        Assert.Equal(regrown, outputs.Row(1)[0], 1e-4);
        s.Append(1, x.AsSpan(cut));
        outputs = s.Forward();
        Assert.Equal(alone[0], outputs.Row(0)[0], 1e-4);
        Assert.Equal(alone[0], outputs.Row(1)[0], 1e-4);
        Assert.Equal(alone[1], outputs.Row(2)[0], 1e-4);
    }
}
