using System.Text.Json;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Models.Tests;

/// <summary>Reward, prefix-scorer and value sessions against PyTorch's numbers for the same inputs.</summary>
public sealed class RewardModelTests
{
    private static string Fixture(string name) => Path.Combine(SharedModels.RepoRoot, "tests", "fixtures", name);

    private sealed record Expected(string prompt, string response, int[] ids, float[] logits);

    [Fact]
    public void Sequence_classifier_reward_is_label1_minus_label0_as_in_pytorch()
    {
        var expected = JsonSerializer.Deserialize<Expected[]>(File.ReadAllText(Path.Combine(Fixture("tiny-classifier"), "expected.json")))!;
        using var rm = OnnxSequenceClassifierRewardModel.Load(Fixture("tiny-classifier"));
        foreach (var e in expected) Assert.Equal(e.ids, rm.Tokenizer.Encode(e.prompt + e.response));
        var rewards = rm.Score(expected.Select(e => new RewardQuery(e.prompt, e.response)).ToArray());
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i].logits[1] - expected[i].logits[0], rewards[i], 1e-5f);
    }

    [Fact]
    public void Sequence_classifier_label_options_pick_logits()
    {
        var e = JsonSerializer.Deserialize<Expected[]>(File.ReadAllText(Path.Combine(Fixture("tiny-classifier"), "expected.json")))![0];
        var q = new RewardQuery(e.prompt, e.response);
        using (var label0 = OnnxSequenceClassifierRewardModel.Load(Fixture("tiny-classifier"), new RewardModelOptions { Label = 0 }))
            Assert.Equal(e.logits[0], label0.Score([q])[0], 1e-5f);
        using (var contrast = OnnxSequenceClassifierRewardModel.Load(Fixture("tiny-classifier"), new RewardModelOptions { Label = 0, ContrastLabel = 1 }))
            Assert.Equal(e.logits[0] - e.logits[1], contrast.Score([q])[0], 1e-5f);
        var ex = Assert.Throws<ModelLoadException>(() => OnnxSequenceClassifierRewardModel.Load(Fixture("tiny-classifier"), new RewardModelOptions { Label = 5 }));
        Assert.Contains("label 5", ex.Message);
        Assert.Contains("2 labels", ex.Message);
    }

    [Fact]
    public void Template_without_response_placeholder_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => OnnxSequenceClassifierRewardModel.Load(Fixture("tiny-classifier"), new RewardModelOptions { Template = "{prompt}" }));
        Assert.Contains("{response}", ex.Message);
    }

    private sealed record DecoderExpected(int[] ids, JsonElement outputs);

    [PythonTorchFact]
    public void Decoder_reward_model_scores_every_prefix_like_pytorch_and_candidates_share_the_cache()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "score");
        var expected = JsonSerializer.Deserialize<DecoderExpected>(File.ReadAllText(Path.Combine(dir, "expected.json")))!;
        var perPosition = expected.outputs.EnumerateArray().Select(x => x.GetSingle()).ToArray();
        using var rm = OnnxDecoderRewardModel.Load(dir);
        Assert.Equal(DecoderOutputKind.Scores, rm.Info.Output);
        for (var n = 1; n <= expected.ids.Length; n++)
            Assert.Equal(perPosition[n - 1], rm.ScoreTokens([expected.ids[..n]])[0], 1e-4f);

        using var s = rm.CreateSession();
        s.AddRow(expected.ids[..4]);
        s.AddRow(expected.ids[..6]);
        s.Forward();
        var candidates = s.ForwardCandidates([0, 1], [expected.ids[4], 99, 100, expected.ids[6]]);
        Assert.Equal(perPosition[4], candidates.Row(0)[0], 1e-4f);
        Assert.Equal(perPosition[6], candidates.Row(3)[0], 1e-4f);
        Assert.Equal(rm.ScoreTokens([[.. expected.ids[..4], 99]])[0], candidates.Row(1)[0], 1e-4f);
    }

    [PythonTorchFact]
    public void Text_reward_uses_the_tokenizer_and_the_final_score()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "score");
        using var rm = OnnxDecoderRewardModel.Load(dir);
        var q = new RewardQuery("Hi! ", "2+2=4");
        var ids = rm.Encode(q);
        Assert.Equal(256, ids[0]); // BOS from tokenizer_config's add_bos_token
        Assert.Equal(rm.ScoreTokens([ids])[0], rm.Score([q])[0]);
    }

    [PythonTorchFact]
    public void Value_model_with_vocabulary_head_gives_candidate_values_in_one_step()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "value");
        var expected = JsonSerializer.Deserialize<DecoderExpected>(File.ReadAllText(Path.Combine(dir, "expected.json")))!;
        var rows = expected.outputs.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        using var vm = OnnxValueModel.Load(dir);
        Assert.Equal(DecoderOutputKind.Values, vm.Info.Output);
        using var s = vm.CreateSession();
        s.AddRow(expected.ids[..5]);
        s.AddRow(expected.ids[..3]);
        var values = new float[6];
        CandidateValues.Read(s, [0, 1], [7, 8, 9, 40, 41, 42], values);
        Assert.Equal(1, s.Telemetry.ModelCalls);
        Assert.Equal(rows[4][7], values[0], 1e-4f);
        Assert.Equal(rows[4][9], values[2], 1e-4f);
        Assert.Equal(rows[2][42], values[5], 1e-4f);
    }

    [PythonTorchFact]
    public void Scalar_scorer_serves_as_value_model_by_scoring_each_candidate()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "score");
        using var vm = OnnxValueModel.Load(dir);
        using var rm = OnnxDecoderRewardModel.Load(dir);
        using var s = vm.CreateSession();
        s.AddRow([256, 65, 66]);
        var values = new float[2];
        CandidateValues.Read(s, [0], [67, 68], values);
        Assert.Equal(rm.ScoreTokens([[256, 65, 66, 67]])[0], values[0], 1e-5f);
        Assert.Equal(rm.ScoreTokens([[256, 65, 66, 68]])[0], values[1], 1e-5f);
    }

    [PythonTorchFact]
    public void NaN_output_is_reported_with_tensor_and_file()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "lm", "--nan");
        using var lm = OnnxCausalLm.Load(dir);
        using var s = lm.CreateSession();
        s.AddRow([256, 65]);
        var ex = Assert.Throws<NonFiniteOutputException>(() => s.Forward());
        Assert.Contains("'logits'", ex.Message);
        Assert.Contains("model.onnx", ex.Message);
        Assert.Contains("NaN", ex.Message);
    }

    [PythonTorchFact]
    public void Loading_a_scorer_as_a_language_model_says_which_head_it_has()
    {
        var dir = PythonFixtures.Make("make_tiny_decoder.py", "--head", "score");
        var ex = Assert.Throws<ModelLoadException>(() => OnnxCausalLm.Load(dir));
        Assert.Contains("'scores' head", ex.Message);
    }
}
