using DecodeAlign.Decoding.Generation;

namespace DecodeAlign.Decoding.Strategies;

/// <summary>One SMC particle: its response so far, its stop-text state and its weight since the last resampling.</summary>
internal sealed class SmcParticle(StopTextWatcher watcher)
{
    public List<int> Tokens { get; private init; } = [];

    public StopTextWatcher Watcher { get; private set; } = watcher;

    /// <summary>Null while the particle is still generating.</summary>
    public FinishReason? Finish { get; set; }

    /// <summary>Final text (set when finished).</summary>
    public string Text { get; set; } = "";

    /// <summary>log of the unnormalised weight accumulated since the last resampling.</summary>
    public double LogWeight { get; set; }

    /// <summary>The twist ψ at the last weight update (0 before the first).</summary>
    public double Psi { get; set; }

    /// <summary>The reward r(y) once the finished particle was scored.</summary>
    public float? Reward { get; set; }

    /// <summary>A copy for resampling; the watcher is rebuilt by replaying the tokens (it holds detokenizer state).</summary>
    public SmcParticle Clone(Func<StopTextWatcher> newWatcher)
    {
        var watcher = newWatcher();
        if (Finish is null) foreach (var t in Tokens) watcher.Push(t);
        return new SmcParticle(watcher)
        {
            Tokens = [.. Tokens],
            Finish = Finish,
            Text = Text,
            LogWeight = LogWeight,
            Psi = Psi,
            Reward = Reward,
        };
    }
}
