namespace DecodeAlign.Decoding;

/// <summary>The chosen response for one prompt, with the trace of how it was found.</summary>
/// <param name="Tokens">Generated token ids (without the prompt; EOS excluded, tokens of a stop string included).</param>
/// <param name="Text">Generated text (without the prompt or the stop string).</param>
/// <param name="Finish">Why generation ended.</param>
/// <param name="Reward">The reward model's score of the response, where the strategy used one.</param>
/// <param name="Trace">Candidates, decisions and the compute spent.</param>
public sealed record DecodeResult(int[] Tokens, string Text, FinishReason Finish, double? Reward, DecodeTrace Trace);
