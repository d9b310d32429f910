using System.Text.RegularExpressions;
using DecodeAlign.Decoding.Rewards;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Decoding.Tests.Rewards;

/// <summary>The built-in programmatic rewards on hand-written responses: true and false cases, prefixes, and batched extensions.</summary>
public sealed class ProgrammaticRewardTests
{
    private const string Prompt = "Q: Tom has 12 apples. He finds 5 more apples. How many apples does Tom have now?\nA:";

    [Theory]
    [InlineData(" Tom has 12 apples. 12 + 5 = 17. The answer is 17.", 0)]
    [InlineData(" Tom has 12 apples. 12 + 5 = 18. The answer is 18.", -1)]
    [InlineData(" 12+5=17. 17 - 3 = 14. 14 * 2 = 28. 28 / 4 = 7.", 0)]
    [InlineData(" 12 + 5 = 18. 18 / 4 = 4. 3 - 5 = -2.", -2)] // 18 / 4 is not exact; a negative result is fine
    [InlineData(" 7 / 0 = 0. 2 * 3 = 6", -1)]
    [InlineData(" The answer is 17.", 0)]
    [InlineData(" 99999999999999999999 + 1 = 100000000000000000000.", 0)]
    public void Calc_counts_wrong_equations(string response, float expected) =>
        Assert.Equal(expected, new CalcReward().Score(Prompt, response));

    [Theory]
    [InlineData(" 12 + 5 = 1", 0)] // c may still grow into 18
    [InlineData(" 12 + 5 = 18", 0)]
    [InlineData(" 12 + 5 = 18.", -1)] // complete once a non-digit follows
    [InlineData(" 12 + 5 = 17. 17 - 3 = 1", 0)]
    [InlineData(" 12 + 5 = 17. 17 - 3 = 15 ", -1)]
    [InlineData(" 12 + 5 =", 0)]
    public void Calc_prefix_scores_only_complete_equations(string prefix, float expected) =>
        Assert.Equal(expected, new CalcReward().ScorePrefix(Prompt, prefix));

    [Fact]
    public void Calc_whole_response_counts_a_final_equation_without_a_following_character() =>
        Assert.Equal(-1, new CalcReward().Score(Prompt, " 12 + 5 = 18"));

    [Theory]
    [InlineData(" The answer is 17.", 1, 1, 1, 0)]
    [InlineData(" I am not sure.", 0, 0, 1, 1)]
    [InlineData(" The answer is seventeen.", 1, 0, 1, 0)]
    public void Keyword_required_regex_and_forbidden(string response, float required, float regex, float forbidden, float forbiddenAnswer)
    {
        Assert.Equal(required, KeywordReward.Parse("answer").Score(Prompt, response));
        Assert.Equal(regex, KeywordReward.Parse("/answer is [0-9]+/").Score(Prompt, response));
        Assert.Equal(forbidden, KeywordReward.Parse("!sorry").Score(Prompt, response));
        Assert.Equal(forbiddenAnswer, KeywordReward.Parse("!answer").Score(Prompt, response));
    }

    [Fact]
    public void Keyword_prefix_forms_are_monotone_for_words()
    {
        var required = KeywordReward.Required("answer");
        var forbidden = KeywordReward.Forbidden("answer");
        Assert.Equal(0, required.ScorePrefix(Prompt, " The ans"));
        Assert.Equal(1, required.ScorePrefix(Prompt, " The answer"));
        Assert.Equal(1, forbidden.ScorePrefix(Prompt, " The ans"));
        Assert.Equal(0, forbidden.ScorePrefix(Prompt, " The answer"));
        Assert.Equal("keyword:!answer", forbidden.Name);
        Assert.Equal("keyword:/a+/", KeywordReward.Parse("/a+/").Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("!")]
    [InlineData("/[/")]
    public void Keyword_rejects_an_empty_word_or_a_bad_regex(string spec) =>
        Assert.Throws<ArgumentException>(() => KeywordReward.Parse(spec));

    [Theory]
    [InlineData("{\"answer\": 17}", 1)]
    [InlineData("  [1, 2, 3]\n", 1)]
    [InlineData("17", 1)]
    [InlineData("{\"answer\": 17", 0)]
    [InlineData("{\"answer\": 17} and more", 0)]
    [InlineData(" The answer is 17.", 0)]
    [InlineData("", 0)]
    public void Json_parses_the_whole_response(string response, float expected) =>
        Assert.Equal(expected, new JsonReward().Score(Prompt, response));

    [Theory]
    [InlineData("", 1)]
    [InlineData(" {\"answer\": 1", 1)]
    [InlineData("{\"a\": tr", 1)]
    [InlineData("{\"a\": trx", 0)]
    [InlineData("[1, 2] x", 0)]
    [InlineData(" The", 0)]
    public void Json_prefix_is_whether_it_can_still_be_completed(string prefix, float expected) =>
        Assert.Equal(expected, new JsonReward().ScorePrefix(Prompt, prefix));

    [Fact]
    public void Length_penalises_each_unit_over_the_limit()
    {
        var chars = new LengthReward(5);
        Assert.Equal(0, chars.Score(Prompt, "abcde"));
        Assert.Equal(-3, chars.Score(Prompt, "abcdefgh"));
        Assert.Equal(-1, chars.Score(Prompt, "ab😀cde")); // one character, two UTF-16 units
        Assert.Equal(-3, chars.ScorePrefix(Prompt, "abcdefgh"));
        Assert.Equal("length:5", chars.Name);

        var tokenizer = ArithTokenizer();
        var tokens = new LengthReward(10, tokenizer);
        const string response = " 12 + 5 = 17. The answer is 17.";
        var count = tokenizer.Encode(response, addSpecialTokens: false).Length;
        Assert.True(count > 10);
        Assert.Equal(-(count - 10), tokens.Score(Prompt, response));
        Assert.Equal(0, tokens.Score(Prompt, " 12"));
    }

    [Fact]
    public void Function_reward_wraps_functions_and_defaults_prefixes_to_no_information()
    {
        var plain = new FunctionReward("sevens", (_, r) => r.Count(c => c == '7'));
        Assert.Equal(2, plain.Score(Prompt, " 17 + 7"));
        Assert.False(plain.ScoresPrefixes);
        Assert.Equal(0, plain.ScorePrefix(Prompt, " 777"));
        var withPrefix = new FunctionReward("sevens", (_, r) => r.Count(c => c == '7'), (p, r) => p.Length > 0 ? -r.Length : 0);
        Assert.True(withPrefix.ScoresPrefixes);
        Assert.Equal(-3, withPrefix.ScorePrefix(Prompt, " 77"));
        Assert.Equal([2f, 0f], withPrefix.Score([new(Prompt, "77"), new(Prompt, "x")]));
    }

    /// <summary>The batched form every candidate session uses must equal scoring each concatenation on its own.</summary>
    [Fact]
    public void Score_extensions_equals_scoring_each_concatenation()
    {
        TextReward[] rewards =
        [
            new CalcReward(), new JsonReward(), new LengthReward(12), new LengthReward(9, ArithTokenizer()),
            KeywordReward.Parse("answer"), KeywordReward.Parse("!7 ="), KeywordReward.Parse("/is [0-9]+\\./"),
        ];
        string[] prefixes = ["", " 12 + 5 = 1", " 12 + 5 = 17. 17 - 3", " The answ", "{\"a\": [1, ", " 4 * 4 = 16 ", "x"];
        string[] extensions = ["", "7", "8.", " ", ". ", "er", "er is 4.", "=", " = 14", "2}", "]}", "1", "\uFFFD", "😀", " 7 = 7"];
        var scores = new float[extensions.Length];
        foreach (var reward in rewards)
            foreach (var prefix in prefixes)
            {
                reward.ScoreExtensions(Prompt, prefix, extensions, scores);
                for (var i = 0; i < extensions.Length; i++)
                    Assert.True(reward.ScorePrefix(Prompt, prefix + extensions[i]) == scores[i], $"{reward.Name}: '{prefix}' + '{extensions[i]}'");
            }
    }

    [Fact]
    public void Matching_takes_a_compiled_regex() =>
        Assert.Equal(1, KeywordReward.Matching(new Regex("[0-9]{2}")).Score(Prompt, " 17"));

    internal static TextTokenizer ArithTokenizer() => TextTokenizer.Load(Path.Combine(SharedModels.RepoRoot, "models", "arith", "lm"));
}
