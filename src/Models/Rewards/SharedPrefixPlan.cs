namespace DecodeAlign.Models.Rewards;

/// <summary>
/// Groups sequences to score by a shared leading run of tokens, so a KV-cached scorer runs each shared run once and
/// forks it, instead of once per sequence: best-of-N scores N responses to one prompt, and without sharing the prompt
/// was most of the reward model's work.
/// </summary>
internal static class SharedPrefixPlan
{
    /// <summary>Shorter shared runs are not worth the extra model call they cost.</summary>
    public const int MinSharedTokens = 4;

    /// <summary>
    /// Sequences <paramref name="Members"/> (indices into the input) all start with the same first
    /// <paramref name="Prefix"/> tokens; a lone sequence forms a group whose prefix is all of it.
    /// </summary>
    /// <param name="Members">Indices of the sequences in the group.</param>
    /// <param name="Prefix">Tokens every member starts with; shorter than every member when the group has several.</param>
    public readonly record struct Group(int[] Members, int Prefix);

    /// <summary>
    /// Sorts the sequences so shared runs are adjacent, then grows each group while the tokens it saves do not shrink:
    /// a member that would cut the shared prefix below what the group already saves starts a new group.
    /// </summary>
    public static List<Group> Plan(IReadOnlyList<int[]> sequences)
    {
        var order = Enumerable.Range(0, sequences.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var c = sequences[a].AsSpan().SequenceCompareTo(sequences[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        var groups = new List<Group>();
        var members = new List<int>();
        var prefix = 0;
        foreach (var i in order)
        {
            var s = sequences[i];
            if (members.Count > 0)
            {
                // Every member keeps at least its last token outside the prefix: the score is read there.
                var shared = Math.Min(Math.Min(prefix, s.Length - 1), s.AsSpan().CommonPrefixLength(sequences[members[0]]));
                var current = members.Count == 1 ? 0 : (long)(members.Count - 1) * prefix;
                if (shared >= MinSharedTokens && (long)members.Count * shared >= current)
                {
                    members.Add(i);
                    prefix = shared;
                    continue;
                }
                groups.Add(Close(members, prefix, sequences));
                members.Clear();
            }
            members.Add(i);
            prefix = s.Length - 1;
        }
        if (members.Count > 0) groups.Add(Close(members, prefix, sequences));
        return groups;
    }

    private static Group Close(List<int> members, int prefix, IReadOnlyList<int[]> sequences) =>
        members.Count == 1 ? new Group([members[0]], sequences[members[0]].Length) : new Group([.. members], prefix);
}
