using System.Diagnostics;
using DecodeAlign.Chat;
using Microsoft.Extensions.AI;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// Soak test of the chat client (<c>soak [requests]</c>): sequential requests on one client over the built-in bundle,
/// rotating through strategies and questions, printing resident memory (after a full GC) every 100 requests and the
/// ratio of the last reading to the one after the 100th, which must stay within 10%.
/// </summary>
internal static class ChatSoak
{
    public static int Run(string[] args)
    {
        var requests = args.Length > 0 ? int.Parse(args[0]) : 1000;
        using var client = new DecodeAlignChatClient(ModelBundle.Load(), ownsBundle: true);
        string[] strategies = ["sample", "bon", "args", "greedy", "wmv", "vas"];
        var process = Process.GetCurrentProcess();
        long? at100 = null;
        long last = 0;
        var wall = Stopwatch.StartNew();
        Console.WriteLine("| requests | resident MiB | managed MiB | elapsed s |");
        Console.WriteLine("|---:|---:|---:|---:|");
        for (var i = 1; i <= requests; i++)
        {
            var strategy = strategies[i % strategies.Length];
            var options = new DecodeAlignChatOptions { Strategy = strategy, Seed = i, MaxOutputTokens = 64 };
            if (strategy is "bon" or "wmv") options.StrategyOptions["n"] = "4";
            var question = $"Ivy has {i % 90 + 5} coins. She finds {i % 37 + 2} more coins. How many coins does Ivy have now?";
            var response = client.GetResponseAsync([new ChatMessage(ChatRole.User, question)], options).GetAwaiter().GetResult();
            if (string.IsNullOrEmpty(response.Text)) throw new InvalidOperationException($"request {i} returned no text");
            if (i % 100 != 0) continue;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            process.Refresh();
            last = process.WorkingSet64;
            at100 ??= last;
            Console.WriteLine($"| {i} | {last / 1048576.0:F1} | {GC.GetTotalMemory(false) / 1048576.0:F1} | {wall.Elapsed.TotalSeconds:F1} |");
        }
        var ratio = at100 is long first ? (double)last / first : double.NaN;
        Console.WriteLine($"// resident after request {requests} / after request 100: {ratio:F3} (limit 1.10)");
        return ratio <= 1.10 ? 0 : 1;
    }
}
