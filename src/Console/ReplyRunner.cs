using System.Diagnostics;
using System.Globalization;
using System.Text;
using DecodeAlign.Chat;
using Microsoft.Extensions.AI;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// Runs one request through the client's stream and gathers the <see cref="Reply"/>. Streaming is used even where
/// nothing is shown (/compare), so chat and comparison time the same path and cancel at the same points.
/// </summary>
internal static class ReplyRunner
{
    /// <summary>
    /// Streams a reply, handing text to <paramref name="onText"/> as it arrives and the progress note of strategies
    /// that choose at the end to <paramref name="onProgress"/>. Cancelling <paramref name="cancellationToken"/> ends
    /// it with <see cref="OperationCanceledException"/> (the client discards partial replies).
    /// </summary>
    public static async Task<Reply> RunAsync(IChatClient client, IList<ChatMessage> messages, DecodeAlignChatOptions options,
        Action<string>? onProgress, Action<string>? onText, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var text = new StringBuilder();
        ChatResponseUpdate? final = null;
        await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.AdditionalProperties is { } props && props.TryGetValue(ChatOptionKeys.Progress, out var progress))
                onProgress?.Invoke(Convert.ToString(progress, CultureInfo.InvariantCulture) ?? "");
            if (update.Text is { Length: > 0 } delta)
            {
                text.Append(delta);
                onText?.Invoke(delta);
            }
            if (update.Contents.OfType<UsageContent>().Any()) final = update;
        }
        return Reply.From(options.Strategy ?? "", text.ToString(), final, clock.Elapsed);
    }
}
