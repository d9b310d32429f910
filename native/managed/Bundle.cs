using DecodeAlign.Chat;
using System.Globalization;
using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Rewards;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Native;

/// <summary>
/// What <c>da_bundle_load</c> returns: the LM, the kernels and the potentials strategies may ask for. Models named in
/// the config load at once (so a wrong path fails the load); the built-in defaults that come with the built-in LM
/// (verifier, value, aligned) load the first time a strategy needs them, so a bundle used only for plain decoding
/// pays for one model. Generations on one bundle run one at a time (the kernels and lazy loads are shared state).
/// </summary>
public sealed class Bundle : IDisposable
{
    /// <summary>The keys <c>da_bundle_load</c> understands.</summary>
    public static readonly string[] ConfigKeys = ["model", "reward", "value", "baseline", "task", "backend"];

    private readonly object _gate = new();
    private readonly object _activeGate = new();
    private readonly List<CancellationTokenSource> _active = [];
    private readonly List<IDisposable> _owned = [];
    private readonly OnnxModelOptions _onnx = new();
    private readonly string? _rewardSpec, _valuePath, _baselinePath;
    private (IRewardModel Reward, IPrefixScorer Scorer)? _reward;
    private IValueModel? _value;
    private ICausalLm? _baseline;
    private bool _disposed;

    private readonly Func<string, string> _builtinFolder;

    private Bundle(LanguageModel lm, ITokenKernels kernels, string? rewardSpec, string? valuePath, string? baselinePath, Func<string, string?>? extractor,
        Func<string, string> builtinFolder)
    {
        _builtinFolder = builtinFolder;
        Lm = lm;
        Kernels = kernels;
        _rewardSpec = rewardSpec;
        _valuePath = valuePath;
        _baselinePath = baselinePath;
        AnswerExtractor = extractor;
    }

    /// <summary>The LM and its tokenizer.</summary>
    public LanguageModel Lm { get; }

    /// <summary>The kernel backend every generation of this bundle uses.</summary>
    public ITokenKernels Kernels { get; }

    /// <summary>The task's answer extractor (mv, wmv and voting selections), or null without a task.</summary>
    public Func<string, string?>? AnswerExtractor { get; }

    /// <summary>Loads a bundle from its JSON config; <paramref name="libraryDir"/> (libdecodealign.so's folder) is one place the built-in models are searched from.</summary>
    public static Bundle Load(string? configJson, string? libraryDir)
    {
        var config = new JsonFields(configJson, "bundle config");
        var model = config.String("model");
        var reward = config.String("reward");
        var value = config.String("value");
        var baseline = config.String("baseline");
        var task = config.String("task");
        var backend = config.String("backend") ?? "cpu";
        config.RejectRest(ConfigKeys);

        var builtin = model is null;
        string Builtin(string name) => Path.Combine(BuiltinRoot(libraryDir) ?? throw new NativeApiException(Status.Model,
            $"the built-in models (models/arith in the DecodeAlign repository) were not found above {libraryDir ?? "the library"}, "
            + $"{Path.GetDirectoryName(typeof(Bundle).Assembly.Location)} or {Environment.CurrentDirectory}; give 'model' explicitly"), name);

        var kinds = KernelBackends.Parse(backend); // before any model loads: a typo costs nothing
        var lm = LanguageModel.Load(model ?? Builtin("lm"));
        ITokenKernels? kernels = null;
        Bundle? bundle = null;
        try
        {
            kernels = KernelBackends.Create(kinds);
            var taskName = task ?? (builtin ? "arith" : null);
            Func<string, string?>? extractor = taskName is null ? null : Tasks.TaskRegistry.Get(taskName).ExtractAnswer;
            bundle = new Bundle(lm, kernels,
                reward ?? (builtin ? "verifier" : null),
                value ?? (builtin ? Builtin("value") : null),
                baseline ?? (builtin ? Builtin("aligned") : null),
                extractor,
                Builtin);
            // Explicit models load now, so a wrong path fails here rather than at the first generation that needs it.
            if (reward is not null) bundle.RewardModels();
            if (value is not null) bundle.ValueModel();
            if (baseline is not null) bundle.BaselinePolicy();
            return bundle;
        }
        catch
        {
            if (bundle is not null) bundle.Dispose();
            else
            {
                kernels?.Dispose();
                lm.Dispose();
            }
            throw;
        }
    }

    /// <summary>The reward and its prefix scorer, loaded on first use; throws when none is configured.</summary>
    public (IRewardModel Reward, IPrefixScorer Scorer) RewardModels() => _reward ??= LoadReward(_rewardSpec
        ?? throw new NativeApiException(Status.Option, "this strategy needs a reward: give 'reward' in the bundle config (the built-in verifier is the default only with the built-in LM)"));

    /// <summary>The value model, loaded on first use; throws when none is configured.</summary>
    public IValueModel ValueModel() => _value ??= Owned(CheckVocab(ModelLoader.LoadValueModel(_valuePath
        ?? throw new NativeApiException(Status.Option, "this strategy needs a value model: give 'value' in the bundle config (the built-in one is the default only with the built-in LM)"), _onnx)));

    /// <summary>The baseline policy for tqstar, loaded on first use; throws when none is configured.</summary>
    public ICausalLm BaselinePolicy() => _baseline ??= Owned(CheckVocab(ModelLoader.LoadCausalLm(_baselinePath
        ?? throw new NativeApiException(Status.Option, "this strategy needs a baseline policy: give 'baseline' in the bundle config (the built-in aligned policy is the default only with the built-in LM)"), _onnx)));

    /// <summary>
    /// Runs <paramref name="body"/> with a token that <see cref="CancelAll"/> cancels; generations wait for one
    /// another, and one cancelled while waiting starts already cancelled (it returns at once, finish reason cancelled).
    /// </summary>
    public T Run<T>(CancellationTokenSource cts, Func<CancellationToken, T> body)
    {
        lock (_activeGate) _active.Add(cts);
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return body(cts.Token);
            }
        }
        finally
        {
            lock (_activeGate) _active.Remove(cts);
        }
    }

    /// <summary>Cancels every generation running or waiting on this bundle at the time of the call; later ones are unaffected.</summary>
    public void CancelAll()
    {
        lock (_activeGate)
            foreach (var cts in _active) cts.Cancel();
    }

    /// <summary>Waits for a running generation to end, then releases every model.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var d in _owned) d.Dispose();
            Kernels.Dispose();
            Lm.Dispose();
        }
    }

    /// <summary>Where models/arith is: above libdecodealign.so, above this assembly, or above the working directory.</summary>
    private static string? BuiltinRoot(string? libraryDir) =>
        BuiltinModels.FindFrom(libraryDir, Path.GetDirectoryName(typeof(Bundle).Assembly.Location), Environment.CurrentDirectory);

    /// <summary>
    /// The reward a SPEC names (<see cref="RewardSpec"/>, the grammar of the CLI's --reward and the chat client's
    /// decodealign.reward): one model at weight 1 as it is, anything else a composite in the LM's token space.
    /// </summary>
    private (IRewardModel, IPrefixScorer) LoadReward(string spec)
    {
        LoadedReward loaded;
        try
        {
            loaded = RewardSpec.Parse(spec, _builtinFolder).Load(Lm, _onnx);
        }
        catch (RewardSpecException e)
        {
            throw new NativeApiException(e.Message.Contains("no such reward model folder", StringComparison.Ordinal) || e.Message.Contains("does not exist", StringComparison.Ordinal)
                ? Status.Model : Status.Option, e.Message.Replace("--reward: ", "reward: ", StringComparison.Ordinal));
        }
        _owned.Add(loaded);
        return (loaded.Reward, loaded.PrefixScorer ?? throw new NativeApiException(Status.Option, $"reward: '{spec}' cannot score prefixes"));
    }

    private T CheckVocab<T>(T model) where T : class
    {
        var info = model switch
        {
            ICausalLm c => c.Info,
            IValueModel v => v.Info,
            IPrefixScorer p => p.Info,
            _ => null,
        };
        if (info is not null && info.VocabSize != Lm.Lm.Info.VocabSize)
        {
            (model as IDisposable)?.Dispose();
            throw new VocabularyMismatchException(info.Source, info.VocabSize, Lm.Lm.Info.Source, Lm.Lm.Info.VocabSize);
        }
        return model;
    }

    private T Owned<T>(T model) where T : IDisposable
    {
        _owned.Add(model);
        return model;
    }
}
