namespace DecodeAlign.Models.Tokenization;

/// <summary>An entry of tokenizer.json's "added_tokens" (or tokenizer_config.json's "added_tokens_decoder").</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool Normalized, bool LStrip, bool RStrip, bool SingleWord);
