namespace DecodeAlign.Decoding;

/// <summary>A part of <see cref="Potentials"/> a strategy reads.</summary>
public enum PotentialRole
{
    /// <summary>A whole-response reward model (<see cref="Potentials.Reward"/>).</summary>
    Reward,

    /// <summary>A prefix scorer in the LM's token space (<see cref="Potentials.PrefixScorer"/>).</summary>
    PrefixScorer,

    /// <summary>Token-level value models (<see cref="Potentials.Values"/>).</summary>
    Value,

    /// <summary>A task's answer extractor for voting (<see cref="Potentials.AnswerExtractor"/>).</summary>
    AnswerExtractor,

    /// <summary>A baseline policy whose rollouts estimate Q (<see cref="Potentials.BaselinePolicy"/>).</summary>
    BaselinePolicy,

    /// <summary>The reward the baseline policy was aligned to, for indirect transfer (<see cref="Potentials.BaselineReward"/>).</summary>
    BaselineReward,
}
