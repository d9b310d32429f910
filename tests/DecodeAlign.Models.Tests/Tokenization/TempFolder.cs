namespace DecodeAlign.Models.Tests.Tokenization;

/// <summary>A scratch folder under the system temp directory, deleted on dispose; fixtures are written here, never into the repo.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("decodealign-tok-").FullName;

    public string File(string name, string contents)
    {
        string path = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllText(path, contents);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
