using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Models.Tests;

/// <summary>
/// A batch whose sequences share a leading run (one prompt's candidates) is scored by running the run once and forking
/// its cache; every score must equal scoring that sequence alone, in the caller's order, whatever the grouping.
/// </summary>
public sealed class SharedPrefixScoringTests
{
    private static readonly Lazy<OnnxDecoderRewardModel> Reward = new(() =>
        OnnxDecoderRewardModel.Load(Path.Combine(SharedModels.RepoRoot, "models", "arith", "likelihood"), new RewardModelOptions { Onnx = new OnnxModelOptions { IntraOpThreads = 1 } }));

    [Fact]
    public void Scores_with_shared_prefixes_equal_scoring_each_sequence_alone()
    {
        int[] prompt = [463, 40, 41, 42, 43, 44, 45, 46, 47, 48];
        int[][] sequences =
        [
            [.. prompt, 60, 61, 62],
            [.. prompt, 60, 70],
            [463, 50, 51], // shares only BOS: scored on its own
            [.. prompt, 80, 81, 82, 83, 84],
            [.. prompt[..6], 90, 91], // shares 6 tokens: would cut the group's savings, so starts its own
            [.. prompt, 60, 61, 62], // a duplicate
            [.. prompt, 99],
        ];
        var batched = Reward.Value.ScoreTokens(sequences);
        for (var i = 0; i < sequences.Length; i++)
            Assert.Equal(Reward.Value.ScoreTokens([sequences[i]])[0], batched[i], 1e-5f);
    }

    [Fact]
    public void Plan_groups_a_prompts_candidates_and_keeps_each_last_token_outside_the_prefix()
    {
        int[] prompt = [1, 2, 3, 4, 5, 6];
        int[][] sequences = [[.. prompt, 7], [9, 9], [.. prompt], [.. prompt, 8, 8]];
        var groups = SharedPrefixPlan.Plan(sequences);
        var shared = Assert.Single(groups, g => g.Members.Length > 1);
        Assert.Equal([0, 2, 3], shared.Members.Order());
        Assert.Equal(5, shared.Prefix); // sequence 2 is the prompt itself: its last token stays outside
        var alone = Assert.Single(groups, g => g.Members.Length == 1);
        Assert.Equal((1, 2), (alone.Members[0], alone.Prefix));
    }
}
