namespace DecodeAlign.Tasks;

/// <summary>A task with a seeded problem generator and an exact checker, shared by tests, the forge and the benchmark.</summary>
public interface IEvalTask
{
    /// <summary>The task's name on the command line (e.g. "arith").</summary>
    string Name { get; }

    /// <summary>The problem at <paramref name="index"/> of <paramref name="split"/>; the same on every machine and .NET version.</summary>
    Problem Generate(Split split, int index);

    /// <summary>The prompt given to the language model (the response is generated after it).</summary>
    string Prompt(Problem problem);

    /// <summary>The reference response a perfect model would generate after <see cref="Prompt"/> (without the end-of-sequence token).</summary>
    string Response(Problem problem);

    /// <summary>The canonical final answer stated in <paramref name="response"/>, or null when it states none; strategies vote on it.</summary>
    string? ExtractAnswer(string response);

    /// <summary>True when <paramref name="response"/> states the problem's answer.</summary>
    bool IsCorrect(Problem problem, string response);
}

/// <summary>Helpers every task gets from <see cref="IEvalTask.Generate"/>.</summary>
public static class EvalTaskExtensions
{
    /// <summary>Problems <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 of a split, in order.</summary>
    public static IEnumerable<Problem> Problems(this IEvalTask task, Split split, int count, int start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if ((long)start + count > Splits.Capacity) throw new ArgumentOutOfRangeException(nameof(count), $"start + count must be at most {Splits.Capacity}.");
        for (var i = 0; i < count; i++) yield return task.Generate(split, start + i);
    }
}
