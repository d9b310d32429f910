using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DecodeAlign.Tasks;

/// <summary>
/// A user's own prompts as a task: a JSONL file with <c>prompt</c> and an optional <c>answer</c> per line. Prompts are
/// given to the LM as they are; the answer of a response is the first group (or the whole match) of the last match of
/// an answer regex. <see cref="Graded"/> says whether every prompt has an answer: only then is accuracy reported (a file
/// where some prompts lack one gets reward figures only, rather than an accuracy diluted by unanswerable prompts).
/// </summary>
public sealed class PromptFileTask : IEvalTask
{
    private readonly List<(string Prompt, string? Answer)> _items;
    private readonly Regex _answer;

    private PromptFileTask(string file, List<(string Prompt, string? Answer)> items, Regex answer)
    {
        Name = $"file:{Path.GetFileName(file)}";
        _items = items;
        _answer = answer;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Number of prompts in the file.</summary>
    public int Count => _items.Count;

    /// <summary>True when every prompt has an answer.</summary>
    public bool Graded => _items.All(i => i.Answer is not null);

    /// <summary>
    /// Reads <paramref name="file"/>; throws <see cref="FormatException"/> naming the file and line for a line that is
    /// not a JSON object with a string <c>prompt</c> (and, if present, a string or number <c>answer</c>), and
    /// <see cref="ArgumentException"/> for an invalid regex.
    /// </summary>
    public static PromptFileTask Load(string file, string answerRegex)
    {
        Regex regex;
        try
        {
            regex = new Regex(answerRegex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--answer-regex: {e.Message}");
        }
        var items = JsonLines.Read(file, "--prompts", o => (JsonLines.RequiredString(o, "prompt"), o["answer"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var a) => a,
            JsonValue v when v.TryGetValue<double>(out var d) => d.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new JsonException("'answer' must be a string or a number"),
        }));
        if (items.Count == 0) throw new FormatException($"--prompts: {file} holds no prompts.");
        return new PromptFileTask(file, items, regex);
    }

    /// <inheritdoc />
    public Problem Generate(Split split, int index)
    {
        if ((uint)index >= (uint)_items.Count) throw new ArgumentOutOfRangeException(nameof(index), $"the file has {_items.Count} prompts.");
        var (prompt, answer) = _items[index];
        return new Problem(Name, split, index, prompt, "", answer ?? "");
    }

    /// <inheritdoc />
    public string Prompt(Problem problem) => problem.Question;

    /// <inheritdoc />
    public string Response(Problem problem) => "";

    /// <inheritdoc />
    public string? ExtractAnswer(string response)
    {
        var matches = _answer.Matches(response);
        if (matches.Count == 0) return null;
        var last = matches[^1];
        return (last.Groups.Count > 1 ? last.Groups[1].Value : last.Value).Trim();
    }

    /// <inheritdoc />
    public bool IsCorrect(Problem problem, string response) => problem.Answer.Length > 0 && ExtractAnswer(response) == problem.Answer;
}
