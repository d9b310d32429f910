namespace DecodeAlign.Models;

/// <summary>Running totals of the work a session has done.</summary>
public sealed class SessionTelemetry
{
    /// <summary>Real (non-padding) tokens run through the model.</summary>
    public long TokensComputed { get; internal set; }

    /// <summary>Padding positions run because rows of a batch had different lengths.</summary>
    public long PaddingComputed { get; internal set; }

    /// <summary>Model invocations (ONNX Runtime runs).</summary>
    public long ModelCalls { get; internal set; }

    /// <summary>Time spent inside ONNX Runtime.</summary>
    public TimeSpan RuntimeTime { get; internal set; }

    /// <summary>Wall time of the session's forward calls, including input preparation and output copies.</summary>
    public TimeSpan WallTime { get; internal set; }

    /// <summary>The most recent forward call.</summary>
    public StepTelemetry LastStep { get; internal set; }

    /// <summary>Adds one model call to the totals (session implementations call this once per run).</summary>
    public void Record(StepTelemetry step, long padding = 0)
    {
        ModelCalls++;
        TokensComputed += step.TokensComputed;
        PaddingComputed += padding;
        RuntimeTime += step.RuntimeTime;
        WallTime += step.WallTime;
        LastStep = step;
    }

    /// <summary>A copy of the current totals.</summary>
    public SessionTelemetry Snapshot() => (SessionTelemetry)MemberwiseClone();
}

/// <summary>One forward call: rows, sequence positions, tokens computed and its time split.</summary>
/// <param name="Rows">Batch rows in the call.</param>
/// <param name="Positions">Sequence positions per row in the call (longest pending run).</param>
/// <param name="TokensComputed">Real tokens run.</param>
/// <param name="RuntimeTime">Time inside ONNX Runtime.</param>
/// <param name="WallTime">Whole call, including preparation and copies.</param>
public readonly record struct StepTelemetry(int Rows, int Positions, int TokensComputed, TimeSpan RuntimeTime, TimeSpan WallTime);
