using DecodeAlign.Chat;

namespace DecodeAlign.Cli.Tests;

/// <summary>The --reward SPEC grammar, parsed in-process: terms, weights, regexes with commas, folders, and one clear error per mistake.</summary>
public sealed class RewardSpecTests
{
    private static readonly string Likelihood = Path.Combine(SharedModels.RepoRoot, "models", "arith", "likelihood");

    private static string Builtin(string name) => Path.Combine(SharedModels.RepoRoot, "models", "arith", name);

    private static RewardSpec Parse(string spec) => RewardSpec.Parse(spec, Builtin);

    [Fact]
    public void Terms_have_names_arguments_and_weights()
    {
        var spec = Parse("likelihood=1, calc=0.5,length:64=2e-1,keyword:/answer is [0-9]{1,3}\\/x/=-2,keyword:!sorry=-1,json");
        Assert.Equal(
        [
            new RewardSpec.Term("likelihood=1", RewardSpec.Kind.Model, Likelihood, 1f),
            new RewardSpec.Term("calc=0.5", RewardSpec.Kind.Calc, "", 0.5f),
            new RewardSpec.Term("length:64=2e-1", RewardSpec.Kind.Length, "64", 0.2f),
            new RewardSpec.Term("keyword:/answer is [0-9]{1,3}\\/x/=-2", RewardSpec.Kind.Keyword, "/answer is [0-9]{1,3}\\/x/", -2f),
            new RewardSpec.Term("keyword:!sorry=-1", RewardSpec.Kind.Keyword, "!sorry", -1f),
            new RewardSpec.Term("json", RewardSpec.Kind.Json, "", 1f),
        ], spec.Terms);
        Assert.False(spec.IsSingleModel);
    }

    [Fact]
    public void A_plain_folder_is_a_one_term_spec()
    {
        var spec = Parse(Likelihood);
        Assert.True(spec.IsSingleModel);
        Assert.Equal(Likelihood, spec.Terms[0].Argument);
        Assert.True(Parse("likelihood").IsSingleModel);
        Assert.False(Parse("likelihood=2").IsSingleModel);
        Assert.Equal(RewardSpec.Kind.Model, Parse($"{Likelihood}=0.5").Terms[0].Kind);
    }

    [Theory]
    [InlineData("bogus", "unknown reward 'bogus'")]
    [InlineData("calc,verifierx=2", "unknown reward 'verifierx' in term 'verifierx=2'")]
    [InlineData("calc=abc", "term 'calc=abc': the weight 'abc' is not a number")]
    [InlineData("calc=NaN", "term 'calc=NaN': the weight must be finite")]
    [InlineData("likelihood=Infinity", "term 'likelihood=Infinity': the weight must be finite")]
    [InlineData("calc=-1", "term 'calc=-1': a negative weight is meaningful only for keyword rewards")]
    [InlineData("likelihood=-0.5", "term 'likelihood=-0.5': a negative weight is meaningful only for keyword rewards")]
    [InlineData("./no-such-reward-folder", "term './no-such-reward-folder': no such reward model folder")]
    [InlineData("length:x", "term 'length:x': length:N needs a whole number N >= 0")]
    [InlineData("length:-3", "term 'length:-3': length:N needs a whole number N >= 0")]
    [InlineData("keyword:", "term 'keyword:': a keyword needs a non-empty word")]
    [InlineData("keyword:/[/", "term 'keyword:/[/': invalid regex")]
    [InlineData("keyword:/abc", "term 'keyword:/abc': the regex has no closing '/'")]
    [InlineData("calc,,json", "empty term in 'calc,,json'")]
    [InlineData(" ", "the SPEC is empty")]
    public void Mistakes_are_one_error_naming_the_term(string spec, string message)
    {
        var e = Assert.Throws<RewardSpecException>(() => Parse(spec));
        Assert.StartsWith("--reward: ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void A_missing_built_in_model_folder_is_named() =>
        Assert.Contains("the built-in reward model folder /nowhere/verifier does not exist",
            Assert.Throws<RewardSpecException>(() => RewardSpec.Parse("calc,verifier=2", name => "/nowhere/" + name)).Message);

    [Fact]
    public void Within_problem_ranking_counts_pairs_and_ties_half()
    {
        // Problem 1: correct 0.9 and 0.2 against wrong 0.5 (one win, one loss); problem 2: a tie; problem 3: all wrong.
        float[] scores = [0.9f, 0.5f, 0.2f, 1f, 1f, 0f, 3f, 2f, 1f];
        bool[] labels = [true, false, true, true, false, false, false, false, false];
        var (ranking, pairs) = Commands.EvalCommand.WithinGroupRanking(scores, labels, 3);
        Assert.Equal(4, pairs);
        Assert.Equal((1 + 0 + 0.5 + 1) / 4, ranking!.Value, 1e-12);
        Assert.Equal(2 / 3.0, Commands.EvalCommand.TopScoredAccuracy(scores, labels, 3), 1e-12);
        Assert.Null(Commands.EvalCommand.WithinGroupRanking([1f, 2f], [false, false], 2).Ranking);
    }
}
