namespace DecodeAlign.Chat;

/// <summary>Finds the built-in models (models/arith in the repository): the default bundle when no model is named.</summary>
public static class BuiltinModels
{
    /// <summary>The folder of the built-in models, searched upwards from the application and from the working directory, or null.</summary>
    public static string? Root => FindFrom(AppContext.BaseDirectory, Environment.CurrentDirectory);

    /// <summary>The first models/arith found upwards from each of <paramref name="starts"/> in turn (null or empty entries skipped), or null.</summary>
    public static string? FindFrom(params string?[] starts) =>
        starts.Where(s => !string.IsNullOrEmpty(s)).Select(s => Find(s!)).FirstOrDefault(r => r is not null);

    /// <summary>The LM folder to use: the given path, or the built-in base LM.</summary>
    public static string ResolveLm(string? given) => given ?? Folder("lm");

    /// <summary>A built-in model folder (lm, verifier, likelihood, aligned or value); throws <see cref="DirectoryNotFoundException"/> when the repository's models are absent.</summary>
    public static string Folder(string name)
    {
        var root = Root ?? throw new DirectoryNotFoundException("No model was given and the built-in models (models/arith in the DecodeAlign repository) were not found.");
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
