using System.Diagnostics.Metrics;
using DecodeAlign.Decoding;

namespace DecodeAlign.Chat;

/// <summary>The client's instruments (System.Diagnostics.Metrics, meter "DecodeAlign"): tokens, throughput, model time, QAlign acceptance.</summary>
public sealed class DecodeAlignMetrics : IDisposable
{
    /// <summary>The meter's name, for listeners and OpenTelemetry.</summary>
    public const string MeterName = "DecodeAlign";

    private readonly Meter _meter;
    private readonly Counter<long> _generated;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _tokensPerSecond;
    private readonly Histogram<double> _modelTime;
    private readonly Histogram<double> _acceptance;

    /// <summary>Creates the instruments from <paramref name="factory"/> (DI's IMeterFactory) or a meter of its own.</summary>
    public DecodeAlignMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _generated = _meter.CreateCounter<long>("decodealign.tokens.generated", "{token}", "Tokens sampled, including discarded candidates.");
        _requests = _meter.CreateCounter<long>("decodealign.requests", "{request}", "Requests finished, by strategy and finish reason.");
        _tokensPerSecond = _meter.CreateHistogram<double>("decodealign.tokens_per_second", "{token}/s", "Response tokens per second of wall time.");
        _modelTime = _meter.CreateHistogram<double>("decodealign.model_time", "s", "Time inside the models per request.");
        _acceptance = _meter.CreateHistogram<double>("decodealign.acceptance_rate", "1", "QAlign's Metropolis–Hastings acceptance rate per request.");
    }

    /// <summary>Records one finished request.</summary>
    public void Record(string strategy, DecodeResult result)
    {
        var tag = new KeyValuePair<string, object?>("strategy", strategy);
        var c = result.Trace.Compute;
        _generated.Add(c.GeneratedTokens, tag);
        _requests.Add(1, tag, new("finish", result.Finish.ToString()));
        if (c.WallTime > TimeSpan.Zero) _tokensPerSecond.Record(result.Tokens.Length / c.WallTime.TotalSeconds, tag);
        _modelTime.Record(c.ModelTime.TotalSeconds, tag);
        if (result.Trace.AcceptanceRate is double a) _acceptance.Record(a, tag);
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
