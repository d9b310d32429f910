using DecodeAlign.Tasks.Arith;

namespace DecodeAlign.Tasks;

/// <summary>The built-in tasks by name, so the CLI and the benchmark resolve "--task NAME" the same way.</summary>
public static class TaskRegistry
{
    private static readonly Dictionary<string, Func<IEvalTask>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        [ArithTask.TaskName] = () => new ArithTask(),
    };

    /// <summary>Names of the built-in tasks.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>The task called <paramref name="name"/>; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public static IEvalTask Get(string name) =>
        Factories.TryGetValue(name, out var make)
            ? make()
            : throw new ArgumentException($"unknown task '{name}' (known: {string.Join(", ", Factories.Keys)}).");
}
