using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding;

/// <summary>A value model and the weight β its centred values get in VAS.</summary>
/// <param name="Model">The value model.</param>
/// <param name="Beta">Its weight β (&gt; 0).</param>
public sealed record WeightedValueModel(IValueModel Model, float Beta);
