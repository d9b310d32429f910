namespace DecodeAlign.Models.Tokenization;

/// <summary>The ids of a tokenizer's well-known special tokens; any of them may be absent.</summary>
/// <param name="Bos">Beginning-of-sequence id.</param>
/// <param name="Eos">End-of-sequence id (the first one where the config lists several).</param>
/// <param name="Pad">Padding id.</param>
/// <param name="Unk">Unknown-token id.</param>
/// <param name="AllSpecialIds">Every id that decoding skips when asked to skip special tokens.</param>
public sealed record SpecialTokens(int? Bos, int? Eos, int? Pad, int? Unk, IReadOnlySet<int> AllSpecialIds);
