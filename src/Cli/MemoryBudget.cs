using DecodeAlign.Decoding;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Cli;

/// <summary>
/// The work a command is about to start, checked against a memory limit before any decoding: the KV cache of every
/// session row (prompts × the strategy's rows per prompt, <see cref="StrategyEntry.RowsPerPrompt"/>) at its longest,
/// plus the per-row logits buffers. A request that cannot fit fails in a second with the estimate and the option to
/// change, instead of growing until the out-of-memory killer ends it.
/// </summary>
internal static class MemoryBudget
{
    /// <summary>The limit: <paramref name="mebibytes"/> when given (> 0), else half of the memory available to the process.</summary>
    public static long Limit(long mebibytes) =>
        mebibytes > 0 ? mebibytes * 1024 * 1024 : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    /// <summary>Bytes one token's keys and values take in every layer, or null for a backend that does not say.</summary>
    private static long? KvBytesPerToken(ICausalLm lm) => lm is OnnxCausalLm onnx
        ? 2L * onnx.KvShape.NumLayers * onnx.KvShape.NumKvHeads * onnx.KvShape.HeadSize * (onnx.KvShape.IsHalf ? 2 : 4)
        : null;

    /// <summary>
    /// Throws a <see cref="CliUsageException"/> naming <paramref name="options"/> when <paramref name="prompts"/> decoded
    /// together by <paramref name="settings"/>' strategy, each row up to <paramref name="tokensPerRow"/> tokens, would
    /// need more than <paramref name="limit"/> bytes.
    /// </summary>
    public static void Check(long prompts, StrategySettings settings, AlignmentModels models, int tokensPerRow, long limit, string options)
    {
        if (KvBytesPerToken(models.Lm.Lm) is not long perToken) return;
        var rowsPerPrompt = settings.RowsPerPrompt;
        // Guided strategies keep a scorer, value or baseline session beside the LM's, about as large.
        var sessions = settings.Entry.Requires.Any(r => r is PotentialRole.PrefixScorer or PotentialRole.Value or PotentialRole.BaselinePolicy) ? 2 : 1;
        double rows = (double)prompts * rowsPerPrompt;
        var bytes = rows * (tokensPerRow * (double)perToken * sessions + 2.0 * 4 * models.Lm.Lm.Info.VocabSize);
        if (bytes <= limit) return;
        throw new CliUsageException($"{options}: {rows:N0} session rows of up to {tokensPerRow} tokens ({settings.Name}) need about {bytes / (1L << 30):N1} GiB "
            + $"of KV cache and buffers, over the memory limit of {limit / (double)(1L << 30):N1} GiB; lower them, or raise --memory-limit (MiB; default half the available memory).");
    }
}
