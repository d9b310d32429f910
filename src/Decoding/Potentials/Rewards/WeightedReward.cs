using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>One term w·R of a <see cref="CompositeReward"/>.</summary>
/// <param name="Reward">A learned reward model (e.g. <see cref="OnnxDecoderRewardModel"/>) or a <see cref="TextReward"/>.</param>
/// <param name="Weight">Its weight w (finite; 0 leaves the term out of every computation).</param>
public sealed record WeightedReward(IRewardModel Reward, float Weight)
{
    /// <summary>The term's name in descriptions: a programmatic reward's name or a model's source file.</summary>
    public string Name => Reward is TextReward t ? t.Name : Reward.Source;

    /// <inheritdoc />
    public override string ToString() => $"{Name}={Weight.ToString("g", System.Globalization.CultureInfo.InvariantCulture)}";
}
