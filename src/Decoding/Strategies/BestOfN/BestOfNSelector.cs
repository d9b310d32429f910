namespace DecodeAlign.Decoding.Strategies;

/// <summary>How best-of-N picks one of its N candidates.</summary>
public enum BestOfNSelector
{
    /// <summary>The highest-reward candidate (CLI "bon"); ties go to the lowest candidate index.</summary>
    Argmax,

    /// <summary>The most frequent extracted answer (CLI "mv"); returns the first candidate with it.</summary>
    MajorityVote,

    /// <summary>The answer with the most softmax(r/β) mass (CLI "wmv"); returns its highest-reward candidate.</summary>
    WeightedVote,
}
