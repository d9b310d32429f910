namespace DecodeAlign.Decoding.Strategies;

/// <summary>How <see cref="QAlignStrategy"/> turns a prompt's chains into one answer.</summary>
public enum QAlignSelection
{
    /// <summary>The last state of the prompt's first chain: a draw from the chain after all its steps.</summary>
    LastState,

    /// <summary>The most frequent extracted answer over the states after burn-in of all the prompt's chains.</summary>
    MajorityVote,

    /// <summary>The answer with the largest Σ softmax(r/β) over the states after burn-in of all the prompt's chains.</summary>
    WeightedVote,
}
