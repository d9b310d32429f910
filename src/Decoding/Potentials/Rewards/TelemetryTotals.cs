using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// The telemetry of a session made of other sessions: their model calls, tokens and times added up, so that compute
/// traces count a composite's learned parts exactly as if the strategy had run them itself.
/// </summary>
internal sealed class TelemetryTotals(IReadOnlyList<IDecoderSession> parts)
{
    private readonly SessionTelemetry _total = new();
    private readonly SessionTelemetry[] _seen = parts.Select(_ => new SessionTelemetry()).ToArray();

    /// <summary>The totals so far.</summary>
    public SessionTelemetry Current
    {
        get
        {
            Sync();
            return _total;
        }
    }

    private void Sync()
    {
        for (var i = 0; i < parts.Count; i++)
        {
            var now = parts[i].Telemetry;
            var was = _seen[i];
            var calls = now.ModelCalls - was.ModelCalls;
            if (calls == 0) continue;
            // SessionTelemetry only adds whole calls: all but the last carry nothing, the last carries the differences.
            for (var c = 1; c < calls; c++) _total.Record(default);
            _total.Record(new StepTelemetry(now.LastStep.Rows, now.LastStep.Positions, (int)(now.TokensComputed - was.TokensComputed),
                now.RuntimeTime - was.RuntimeTime, now.WallTime - was.WallTime), now.PaddingComputed - was.PaddingComputed);
            _seen[i] = now.Snapshot();
        }
    }
}
