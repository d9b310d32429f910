using System.Text.Encodings.Web;
using System.Text.Json;

namespace DecodeAlign.Tasks;

/// <summary>Writes problems as JSON lines {task, split, index, prompt, response, answer}: the forge's training data format.</summary>
public static class ProblemDump
{
    /// <summary>Writes problems [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of a split, one JSON object per line.</summary>
    public static void Write(IEvalTask task, Split split, int first, int count, Stream stream)
    {
        // Relaxed escaping keeps "+" readable in the dump; any JSON reader parses it the same either way.
        var options = new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var newline = "\n"u8.ToArray();
        foreach (var p in task.Problems(split, count, first))
        {
            using (var w = new Utf8JsonWriter(stream, options))
            {
                w.WriteStartObject();
                w.WriteString("task", task.Name);
                w.WriteString("split", split.Name());
                w.WriteNumber("index", p.Index);
                w.WriteString("prompt", task.Prompt(p));
                w.WriteString("response", task.Response(p));
                w.WriteString("answer", p.Answer);
                w.WriteEndObject();
            }
            stream.Write(newline);
        }
        stream.Flush();
    }

    /// <summary>Writes the problems to a file, replacing it.</summary>
    public static void WriteFile(IEvalTask task, Split split, int first, int count, string path)
    {
        using var stream = File.Create(path);
        Write(task, split, first, count, stream);
    }
}
