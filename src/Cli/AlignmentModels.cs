using DecodeAlign.Decoding;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Cli;

/// <summary>The LM and the potentials a command runs with, loaded from options or the built-in models, disposed together.</summary>
internal sealed class AlignmentModels : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public required LanguageModel Lm { get; init; }

    public OnnxDecoderRewardModel? Reward { get; init; }

    public OnnxValueModel? Value { get; init; }

    /// <summary>
    /// Loads the LM from <paramref name="lmPath"/> (default: built-in), and the reward and value models from their
    /// paths, or from the built-in ones when the LM is the built-in one; a missing optional model is left null.
    /// </summary>
    public static AlignmentModels Load(string? lmPath, string? rewardPath, string? valuePath, OnnxModelOptions onnx, bool needReward, bool needValue)
    {
        var builtin = lmPath is null;
        var lm = LanguageModel.Load(DefaultModels.ResolveLm(lmPath), onnx);
        try
        {
            rewardPath ??= builtin ? DefaultModels.Builtin("reward") : null;
            valuePath ??= builtin ? DefaultModels.Builtin("value") : null;
            if (needReward && rewardPath is null) throw new CliUsageException("This strategy needs a reward model: pass --reward DIR (the built-in one is used only with the built-in LM).");
            if (needValue && valuePath is null) throw new CliUsageException("This strategy needs a value model: pass --value DIR (the built-in one is used only with the built-in LM).");
            var reward = needReward ? OnnxDecoderRewardModel.Load(rewardPath!, new RewardModelOptions { Onnx = onnx }) : null;
            var value = needValue ? OnnxValueModel.Load(valuePath!, onnx) : null;
            foreach (var info in new[] { reward?.Info, value?.Info })
                if (info is not null && info.VocabSize != lm.Lm.Info.VocabSize)
                    throw new VocabularyMismatchException(info.Source, info.VocabSize, lm.Lm.Info.Source, lm.Lm.Info.VocabSize);
            var models = new AlignmentModels { Lm = lm, Reward = reward, Value = value };
            models._owned.AddRange(new IDisposable?[] { reward, value }.OfType<IDisposable>());
            return models;
        }
        catch
        {
            lm.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        Lm.Dispose();
    }
}
