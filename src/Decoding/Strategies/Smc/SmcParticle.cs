using DecodeAlign.Decoding.Engine;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>One SMC particle: its response under the shared stop rules and its weight since the last resampling.</summary>
internal sealed class SmcParticle(ResponseTracker tracker)
{
    /// <summary>The response so far and its stop-rule state.</summary>
    public ResponseTracker Tracker { get; } = tracker;

    public List<int> Tokens => Tracker.Result.Tokens;

    /// <summary>Null while the particle is still generating.</summary>
    public FinishReason? Finish => Tracker.Done ? Tracker.Result.Finish : null;

    /// <summary>Final text (set when finished).</summary>
    public string Text => Tracker.Result.Text;

    /// <summary>log of the unnormalised weight accumulated since the last resampling.</summary>
    public double LogWeight { get; set; }

    /// <summary>The twist ψ at the last weight update (0 before the first).</summary>
    public double Psi { get; set; }

    /// <summary>The reward r(y) once the finished particle was scored.</summary>
    public float? Reward { get; set; }

    /// <summary>A copy for resampling (the tracker is forked: it holds detokenizer state).</summary>
    public SmcParticle Clone() => new(Tracker.Fork()) { LogWeight = LogWeight, Psi = Psi, Reward = Reward };
}
