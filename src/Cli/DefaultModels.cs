namespace DecodeAlign.Cli;

/// <summary>Finds the built-in models (models/arith in the repository) when no --model is given.</summary>
internal static class DefaultModels
{
    /// <summary>The folder of the built-in models, searched upwards from the CLI and from the working directory.</summary>
    public static string? Root => Find(AppContext.BaseDirectory) ?? Find(Environment.CurrentDirectory);

    /// <summary>The LM folder to use: the given path, or the built-in base LM.</summary>
    public static string ResolveLm(string? given) => given ?? Builtin("lm");

    /// <summary>A built-in model folder (lm, reward or value), with a clear error when the repository's models are absent.</summary>
    public static string Builtin(string name)
    {
        var root = Root ?? throw new CliUsageException("No --model was given and the built-in models (models/arith in the DecodeAlign repository) were not found.");
        return Path.Combine(root, name);
    }

    private static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "models", "arith");
            if (Directory.Exists(Path.Combine(candidate, "lm"))) return candidate;
        }
        return null;
    }
}
