using DecodeAlign.Decoding;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Tasks;

namespace DecodeAlign.Chat;

/// <summary>
/// Everything a request may use, loaded once and shared by concurrent requests (each decode opens its own sessions):
/// the LM and tokenizer, the reward and its prefix scorer, a value model, a baseline policy, the chat template and a
/// task's answer extractor. ONNX Runtime GenAI's "model + tokenizer" pair, with the potentials alignment needs.
/// </summary>
public sealed class ModelBundle : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly Lock _rewardsLock = new();
    private readonly Dictionary<string, LoadedReward> _rewards = [];

    private ModelBundle(LanguageModel lm, ChatTemplate template, OnnxModelOptions onnx)
    {
        Lm = lm;
        Template = template;
        Onnx = onnx;
    }

    /// <summary>The LM and its tokenizer.</summary>
    public LanguageModel Lm { get; }

    /// <summary>Turns chat messages into the prompt text the LM was trained on.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The default reward (null when none was loaded).</summary>
    public LoadedReward? Reward { get; private set; }

    /// <summary>The value model for VAS, if loaded.</summary>
    public IValueModel? Value { get; private set; }

    /// <summary>The baseline policy for Transfer Q*, if loaded.</summary>
    public ICausalLm? Baseline { get; private set; }

    /// <summary>The task's answer extractor for voting, if any.</summary>
    public Func<string, string?>? AnswerExtractor { get; private set; }

    /// <summary>ONNX Runtime settings the models were loaded with (rewards named per request load with them too).</summary>
    public OnnxModelOptions Onnx { get; }

    /// <summary>True when this is the built-in arith bundle.</summary>
    public bool IsBuiltin { get; private set; }

    /// <summary>Loads a bundle; every SPEC and folder is checked, and a failure disposes what was loaded before it.</summary>
    public static ModelBundle Load(ModelBundleOptions? options = null)
    {
        options ??= new ModelBundleOptions();
        var builtin = options.Model is null;
        var spec = (options.Reward ?? (builtin ? "verifier" : null)) is { } text && options.LoadReward ? RewardSpec.Parse(text, BuiltinModels.Folder) : null;
        var lmFolder = BuiltinModels.ResolveLm(options.Model);
        var lm = LanguageModel.Load(lmFolder, options.Onnx);
        var template = options.Template ?? (builtin ? ChatTemplate.Arith : ChatTemplate.For(Directory.Exists(lmFolder) ? lmFolder : Path.GetDirectoryName(Path.GetFullPath(lmFolder))!));
        var bundle = new ModelBundle(lm, template, options.Onnx) { IsBuiltin = builtin };
        try
        {
            if (spec is not null) bundle.Reward = bundle._rewards[spec.Text] = spec.Load(lm, options.Onnx);
            if (options.LoadValue && (options.Value ?? (builtin ? BuiltinModels.Folder("value") : null)) is { } value)
                bundle.Value = bundle.Own(SameVocabulary(ModelLoader.LoadValueModel(value, options.Onnx), m => m.Info, lm));
            if (options.LoadBaseline && (options.Baseline ?? (builtin ? BuiltinModels.Folder("aligned") : null)) is { } baseline)
                bundle.Baseline = bundle.Own(SameVocabulary(ModelLoader.LoadCausalLm(baseline, options.Onnx), m => m.Info, lm));
            if ((options.Task ?? (builtin ? "arith" : null)) is { } task) bundle.AnswerExtractor = TaskRegistry.Get(task).ExtractAnswer;
            return bundle;
        }
        catch
        {
            bundle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The reward a request names by SPEC (loaded on first use and kept for the bundle's lifetime), or the default
    /// reward for null.
    /// </summary>
    public LoadedReward? RewardFor(string? spec)
    {
        if (spec is null) return Reward;
        lock (_rewardsLock)
        {
            if (_rewards.TryGetValue(spec, out var loaded)) return loaded;
            var parsed = RewardSpec.Parse(spec, BuiltinModels.Folder);
            return _rewards[spec] = parsed.Load(Lm, Onnx);
        }
    }

    /// <summary>The potentials a request gets: the named (or default) reward, values at weight β, the baseline and the answer extractor.</summary>
    public Potentials Potentials(string? rewardSpec = null, float beta = 1f)
    {
        var reward = RewardFor(rewardSpec);
        return new Potentials
        {
            Reward = reward?.Reward,
            PrefixScorer = reward?.PrefixScorer,
            Values = Value is null ? [] : [new WeightedValueModel(Value, beta)],
            BaselinePolicy = Baseline,
            AnswerExtractor = AnswerExtractor,
        };
    }

    private T Own<T>(T model) where T : IDisposable
    {
        _owned.Add(model);
        return model;
    }

    private static T SameVocabulary<T>(T model, Func<T, DecoderInfo> info, LanguageModel lm) where T : IDisposable
    {
        var i = info(model);
        if (i.VocabSize == lm.Lm.Info.VocabSize) return model;
        model.Dispose();
        throw new VocabularyMismatchException(i.Source, i.VocabSize, lm.Lm.Info.Source, lm.Lm.Info.VocabSize);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_rewardsLock)
        {
            foreach (var r in _rewards.Values) r.Dispose();
            _rewards.Clear();
        }
        foreach (var d in _owned) d.Dispose();
        Lm.Dispose();
    }
}
