namespace DecodeAlign.Decoding;

/// <summary>
/// Turns a group's extracted answers into the integer ids the kernels' vote takes: ids in order of first
/// appearance within the group (so vote ties go to the answer seen first), −1 for "no answer".
/// </summary>
public static class AnswerIds
{
    /// <summary>Writes the ids of one group's answers into <paramref name="ids"/>.</summary>
    public static void Assign(IReadOnlyList<string?> answers, Span<int> ids)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < answers.Count; i++)
        {
            if (answers[i] is not { } a) { ids[i] = -1; continue; }
            if (!seen.TryGetValue(a, out var id)) seen[a] = id = seen.Count;
            ids[i] = id;
        }
    }
}
