using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Models.Onnx;

/// <summary>How a reward model turns a (prompt, response) pair into its input and its output into one reward.</summary>
public sealed record RewardModelOptions
{
    /// <summary>Input text template with <c>{prompt}</c> and <c>{response}</c> placeholders.</summary>
    public string Template { get; init; } = "{prompt}{response}";

    /// <summary>Appends the tokenizer's EOS token after the response (as when the RM was trained on finished responses).</summary>
    public bool AppendEos { get; init; }

    /// <summary>Sequence classifiers: the label whose logit is the reward (null = the single output, or label 1 − label 0 for two labels).</summary>
    public int? Label { get; init; }

    /// <summary>Sequence classifiers: when set, the reward is logit[Label] − logit[ContrastLabel] (e.g. "good" − "bad").</summary>
    public int? ContrastLabel { get; init; }

    /// <summary>Rows scored per model call.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>ONNX Runtime options for loading.</summary>
    public OnnxModelOptions Onnx { get; init; } = OnnxModelOptions.Default;

    /// <summary>The model's input text for a query.</summary>
    public string Format(RewardQuery q) => Template.Replace("{prompt}", q.Prompt).Replace("{response}", q.Response);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (!Template.Contains("{response}")) throw new ArgumentException($"The reward template must contain {{response}} (got '{Template}').");
        if (BatchSize < 1) throw new ArgumentException($"Reward batch size must be >= 1 (got {BatchSize}).");
        if (Label < 0 || ContrastLabel < 0) throw new ArgumentException("Reward labels must be >= 0.");
    }
}
