using System.Diagnostics.Metrics;
using DecodeAlign.Chat;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DecodeAlign.Chat.Tests;

/// <summary>services.AddDecodeAlign: default and keyed clients, middleware, logging and metrics from the container.</summary>
public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddDecodeAlign_registers_a_client_that_composes_with_middleware_and_reports_metrics()
    {
        var logged = new List<string>();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(new ListLoggerProvider(logged)).SetMinimumLevel(LogLevel.Information));
        services.AddMetrics();
        var middlewareSaw = 0;
        services.AddDecodeAlign(new ModelBundleOptions { LoadValue = false, LoadBaseline = false }, new DecodeAlignChatClientOptions { DefaultStrategy = "greedy" })
            .Use((messages, options, next, ct) =>
            {
                middlewareSaw++;
                return next(messages, options, ct);
            });
        services.AddKeyedDecodeAlign("plain", new ModelBundleOptions { LoadReward = false, LoadValue = false, LoadBaseline = false });

        long generated = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == DecodeAlignMetrics.MeterName) l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => { if (i.Name == "decodealign.tokens.generated") Interlocked.Add(ref generated, v); });
        listener.Start();

        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Lucy has 3 coins. She buys 2 more coins. How many coins does Lucy have now?");
        Assert.Contains("5", response.Text);
        Assert.Equal("greedy", response.AdditionalProperties![ChatOptionKeys.StrategyUsed]);
        Assert.Equal(1, middlewareSaw);
        Assert.Contains(logged, l => l.Contains("decodealign greedy"));
        Assert.True(Interlocked.Read(ref generated) > 0);

        var keyed = provider.GetRequiredKeyedService<IChatClient>("plain");
        Assert.NotSame(client, keyed);
        var plain = await keyed.GetResponseAsync("Lucy has 3 coins. She buys 2 more coins. How many coins does Lucy have now?", new ChatOptions { Seed = 1 });
        Assert.False(string.IsNullOrWhiteSpace(plain.Text));
        // The keyed bundle loaded no reward, so a reward strategy is refused before running.
        await Assert.ThrowsAnyAsync<ArgumentException>(() => keyed.GetResponseAsync("Q", new DecodeAlignChatOptions { Strategy = "bon" }));
    }

    private sealed class ListLoggerProvider(List<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(lines);

        public void Dispose() { }

        private sealed class ListLogger(List<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (lines) lines.Add(formatter(state, exception));
            }
        }
    }
}
