using DecodeAlign.Chat;
using DecodeAlign.Decoding;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Cli;

/// <summary>The models a command runs with: a <see cref="ModelBundle"/> loaded from the options (only the parts the strategy needs), disposed together.</summary>
internal sealed class AlignmentModels(ModelBundle bundle) : IDisposable
{
    public ModelBundle Bundle { get; } = bundle;

    public LanguageModel Lm => Bundle.Lm;

    /// <summary>The --reward SPEC the reward was built from, if any.</summary>
    public RewardSpec? RewardSpec => Bundle.Reward?.Spec;

    /// <summary>The whole-response reward: one model as it is, or the weighted sum of the SPEC's terms.</summary>
    public IRewardModel? Reward => Bundle.Reward?.Reward;

    /// <summary>The same reward as a prefix scorer in the LM's token space.</summary>
    public IPrefixScorer? PrefixScorer => Bundle.Reward?.PrefixScorer;

    public IValueModel? Value => Bundle.Value;

    /// <summary>The baseline policy ρ_BL for Transfer Q* (default with the built-in LM: models/arith/aligned).</summary>
    public ICausalLm? Baseline => Bundle.Baseline;

    /// <summary>
    /// Loads the LM from <paramref name="lmPath"/> (default: built-in), the reward from <paramref name="rewardSpec"/>
    /// (default <c>verifier</c> with the built-in LM), the value model and the baseline policy from their paths, or the
    /// built-in ones with the built-in LM; parts not needed are not loaded. The SPEC is checked before any model loads.
    /// </summary>
    public static AlignmentModels Load(string? lmPath, string? rewardSpec, string? valuePath, OnnxModelOptions onnx, bool needReward, bool needValue,
        string? baselinePath = null, bool needBaseline = false)
    {
        var builtin = lmPath is null;
        if (needReward && rewardSpec is null && !builtin) throw new CliUsageException("This strategy needs a reward: pass --reward SPEC (the built-in verifier is the default only with the built-in LM).");
        if (needBaseline && baselinePath is null && !builtin) throw new CliUsageException("This strategy needs a baseline policy: pass --baseline DIR (the built-in aligned policy is used only with the built-in LM).");
        if (needValue && valuePath is null && !builtin) throw new CliUsageException("This strategy needs a value model: pass --value DIR (the built-in one is used only with the built-in LM).");
        return new AlignmentModels(ModelBundle.Load(new ModelBundleOptions
        {
            Model = lmPath,
            Reward = rewardSpec,
            Value = valuePath,
            Baseline = baselinePath,
            LoadReward = needReward,
            LoadValue = needValue,
            LoadBaseline = needBaseline,
            Onnx = onnx,
        }));
    }

    /// <summary>The bundle's potentials with values at weight β and <paramref name="answers"/> as the answer extractor (the command's task).</summary>
    public Potentials Potentials(float beta, Func<string, string?>? answers) => Bundle.Potentials(beta: beta) with { AnswerExtractor = answers };

    public void Dispose() => Bundle.Dispose();
}
