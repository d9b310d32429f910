using Microsoft.ML.OnnxRuntime;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// A loaded KV-cached decoder graph (causal LM, per-position reward or vocabulary-wide value head) and its layout.
/// The ONNX Runtime session is thread-safe; each <see cref="DecoderSession"/> owns its own buffers.
/// </summary>
internal sealed class OnnxDecoder : IDisposable
{
    public InferenceSession Session { get; }

    public DecoderLayout Layout { get; }

    /// <summary>Buffers that disposed sessions leave for the next ones (see <see cref="PinnedBufferPool"/>).</summary>
    public PinnedBufferPool Buffers { get; } = new();

    private OnnxDecoder(InferenceSession session, DecoderLayout layout)
    {
        Session = session;
        Layout = layout;
    }

    /// <summary>Loads a model folder (model.onnx or the file genai_config.json names) or an .onnx file.</summary>
    public static OnnxDecoder Load(string path, OnnxModelOptions? options = null)
    {
        options ??= OnnxModelOptions.Default;
        var file = ResolveModelFile(path, out var folder);
        var config = ModelConfigFiles.Read(folder);
        var session = OnnxSessionFactory.Create(file, options);
        try
        {
            return new OnnxDecoder(session, DecoderLayout.Discover(session, file, config, options));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Finds the .onnx file for a folder or file path, with a specific error when there is none.</summary>
    public static string ResolveModelFile(string path, out string folder)
    {
        if (File.Exists(path))
        {
            folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            return Path.GetFullPath(path);
        }
        if (!Directory.Exists(path))
            throw new ModelLoadException(path, "no such file or folder (expected a model folder holding model.onnx, or an .onnx file).");
        folder = Path.GetFullPath(path);
        var named = ModelConfigFiles.Read(folder).DecoderFileName;
        var candidates = named is not null ? [Path.Combine(folder, named)] : new[] { Path.Combine(folder, "model.onnx"), Path.Combine(folder, "decoder_model_merged.onnx") };
        foreach (var c in candidates)
            if (File.Exists(c)) return c;
        var onnx = Directory.GetFiles(folder, "*.onnx");
        if (named is null && onnx.Length == 1) return onnx[0];
        throw new ModelLoadException(folder, named is not null
            ? $"genai_config.json names '{named}' but that file is missing."
            : $"holds no model.onnx ({(onnx.Length == 0 ? "no .onnx file at all" : "several .onnx files: " + string.Join(", ", onnx.Select(Path.GetFileName)))}).");
    }

    public void Dispose() => Session.Dispose();
}
