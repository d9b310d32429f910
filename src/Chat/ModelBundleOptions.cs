using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Chat;

/// <summary>What a <see cref="ModelBundle"/> loads. With no <see cref="Model"/> the built-in arith models fill every unset part.</summary>
public sealed record ModelBundleOptions
{
    /// <summary>The LM folder (model.onnx + tokenizer); null loads the built-in models/arith/lm.</summary>
    public string? Model { get; init; }

    /// <summary>The reward SPEC (<see cref="RewardSpec"/>); null: <c>verifier</c> with the built-in LM, none otherwise.</summary>
    public string? Reward { get; init; }

    /// <summary>A value model folder for VAS; null: the built-in one with the built-in LM, none otherwise.</summary>
    public string? Value { get; init; }

    /// <summary>A baseline policy folder for Transfer Q*; null: the built-in aligned policy with the built-in LM, none otherwise.</summary>
    public string? Baseline { get; init; }

    /// <summary>The chat template; null reads it from the model folder (see <see cref="ChatTemplate.For"/>).</summary>
    public ChatTemplate? Template { get; init; }

    /// <summary>The task whose answer extractor mv/wmv vote with; null: arith with the built-in LM, none otherwise.</summary>
    public string? Task { get; init; }

    /// <summary>Load the reward (and its prefix scorer); off saves memory when only plain decoding is wanted.</summary>
    public bool LoadReward { get; init; } = true;

    /// <summary>Load the value model.</summary>
    public bool LoadValue { get; init; } = true;

    /// <summary>Load the baseline policy.</summary>
    public bool LoadBaseline { get; init; } = true;

    /// <summary>ONNX Runtime settings for every model.</summary>
    public OnnxModelOptions Onnx { get; init; } = OnnxModelOptions.Default;
}
