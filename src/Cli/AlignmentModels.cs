using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Rewards;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Cli;

/// <summary>The LM and the potentials a command runs with, loaded from options or the built-in models, disposed together.</summary>
internal sealed class AlignmentModels : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public required LanguageModel Lm { get; init; }

    /// <summary>The --reward SPEC the reward was built from, if any.</summary>
    public RewardSpec? RewardSpec { get; init; }

    /// <summary>The whole-response reward: one model as it is, or the weighted sum of the SPEC's terms.</summary>
    public IRewardModel? Reward { get; init; }

    /// <summary>The same reward as a prefix scorer in the LM's token space.</summary>
    public IPrefixScorer? PrefixScorer { get; init; }

    public IValueModel? Value { get; init; }

    /// <summary>The baseline policy ρ_BL for Transfer Q* (default with the built-in LM: models/arith/aligned).</summary>
    public ICausalLm? Baseline { get; init; }

    /// <summary>
    /// Loads the LM from <paramref name="lmPath"/> (default: built-in), the reward from <paramref name="rewardSpec"/>
    /// (default <c>verifier</c> with the built-in LM) and the value model from its path, or from the built-in one when
    /// the LM is the built-in one; a missing optional model is left null. The SPEC is checked before any model loads.
    /// </summary>
    public static AlignmentModels Load(string? lmPath, string? rewardSpec, string? valuePath, OnnxModelOptions onnx, bool needReward, bool needValue,
        string? baselinePath = null, bool needBaseline = false)
    {
        var builtin = lmPath is null;
        rewardSpec ??= builtin && needReward ? "verifier" : null;
        var spec = rewardSpec is null ? null : Cli.RewardSpec.Parse(rewardSpec, DefaultModels.Builtin);
        valuePath ??= builtin ? DefaultModels.Builtin("value") : null;
        if (needReward && spec is null) throw new CliUsageException("This strategy needs a reward: pass --reward SPEC (the built-in verifier is the default only with the built-in LM).");
        baselinePath ??= builtin ? DefaultModels.Builtin("aligned") : null;
        if (needBaseline && baselinePath is null) throw new CliUsageException("This strategy needs a baseline policy: pass --baseline DIR (the built-in aligned policy is used only with the built-in LM).");
        if (needValue && valuePath is null) throw new CliUsageException("This strategy needs a value model: pass --value DIR (the built-in one is used only with the built-in LM).");
        var lm = LanguageModel.Load(DefaultModels.ResolveLm(lmPath), onnx);
        var owned = new List<IDisposable>();
        try
        {
            IRewardModel? reward = null;
            IPrefixScorer? scorer = null;
            if (needReward)
            {
                var terms = spec!.Terms.Select(t => new WeightedReward(LoadTerm(t, lm, onnx, owned), t.Weight)).ToArray();
                if (spec.IsSingleModel)
                {
                    var model = terms[0].Reward;
                    (reward, scorer) = (model, (IPrefixScorer)model);
                }
                else
                {
                    var composite = new CompositeReward(terms, lm);
                    (reward, scorer) = (composite, composite);
                }
            }
            var value = needValue ? ModelLoader.LoadValueModel(valuePath!, onnx) : null;
            if (value is not null) owned.Add(value);
            if (value is not null && value.Info.VocabSize != lm.Lm.Info.VocabSize)
                throw new VocabularyMismatchException(value.Info.Source, value.Info.VocabSize, lm.Lm.Info.Source, lm.Lm.Info.VocabSize);
            var baseline = needBaseline ? OnnxCausalLm.Load(baselinePath!, onnx) : null;
            if (baseline is not null) owned.Add(baseline);
            if (baseline is not null && baseline.Info.VocabSize != lm.Lm.Info.VocabSize)
                throw new VocabularyMismatchException(baseline.Info.Source, baseline.Info.VocabSize, lm.Lm.Info.Source, lm.Lm.Info.VocabSize);
            var models = new AlignmentModels { Lm = lm, RewardSpec = spec, Reward = reward, PrefixScorer = scorer, Value = value, Baseline = baseline };
            models._owned.AddRange(owned);
            return models;
        }
        catch
        {
            foreach (var d in owned) d.Dispose();
            lm.Dispose();
            throw;
        }
    }

    /// <summary>One SPEC term as a reward; model folders must score the LM's tokens.</summary>
    private static IRewardModel LoadTerm(RewardSpec.Term term, LanguageModel lm, OnnxModelOptions onnx, List<IDisposable> owned)
    {
        switch (term.Kind)
        {
            case Cli.RewardSpec.Kind.Model:
                var model = ModelLoader.LoadPrefixScorer(term.Argument, new RewardModelOptions { Onnx = onnx });
                owned.Add(model);
                if (model.Info.VocabSize != lm.Lm.Info.VocabSize)
                    throw new VocabularyMismatchException(model.Info.Source, model.Info.VocabSize, lm.Lm.Info.Source, lm.Lm.Info.VocabSize);
                return (IRewardModel)model;
            case Cli.RewardSpec.Kind.Calc:
                return new CalcReward();
            case Cli.RewardSpec.Kind.Json:
                return new JsonReward();
            case Cli.RewardSpec.Kind.Length:
                return new LengthReward(int.Parse(term.Argument, System.Globalization.CultureInfo.InvariantCulture), lm.Tokenizer);
            default:
                return KeywordReward.Parse(term.Argument);
        }
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        Lm.Dispose();
    }
}
