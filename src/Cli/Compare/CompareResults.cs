using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DecodeAlign.Cli.Compare;

/// <summary>
/// The output folder of a comparison: results.csv gains a line as each cell finishes (flushed, so an interrupted run
/// loses at most the cell in flight), results.json and results.md are rewritten from it, and --resume reads it back.
/// </summary>
internal sealed class CompareResults(string folder)
{
    public string Folder { get; } = folder;

    public string Csv => Path.Combine(Folder, "results.csv");

    /// <summary>Cells already in results.csv, in order (empty when there is none).</summary>
    public List<CompareCell> Read()
    {
        if (!File.Exists(Csv)) return [];
        var lines = File.ReadAllLines(Csv);
        if (lines.Length == 0 || lines[0] != CompareCell.CsvHeader)
            throw new FormatException($"{Csv}: not a results file of this version (expected the header '{CompareCell.CsvHeader}').");
        return lines.Skip(1).Where(l => l.Length > 0).Select((l, i) => CompareCell.FromCsv(l, i + 2, Csv)).ToList();
    }

    /// <summary>Starts a new results.csv (only the header).</summary>
    public void Start()
    {
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Csv, CompareCell.CsvHeader + "\n");
    }

    /// <summary>Appends a finished cell and rewrites the JSON and Markdown views of all cells so far.</summary>
    public void Append(CompareCell cell, IReadOnlyList<CompareCell> all, JsonObject run)
    {
        using (var stream = new FileStream(Csv, FileMode.Append, FileAccess.Write))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(cell.ToCsv() + "\n");
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        WriteViews(all, run);
    }

    /// <summary>Writes results.json and results.md from the cells.</summary>
    public void WriteViews(IReadOnlyList<CompareCell> all, JsonObject run)
    {
        var json = new JsonObject
        {
            ["run"] = run.DeepClone(),
            ["cells"] = new JsonArray(all.Select(c =>
            {
                var (low, high) = c.Interval;
                return (JsonNode)new JsonObject
                {
                    ["strategy"] = c.Strategy,
                    ["budget"] = c.Budget,
                    ["problems"] = c.Problems,
                    ["correct"] = c.Graded ? c.Correct : null,
                    ["accuracy"] = c.Graded ? c.Accuracy : null,
                    ["ci_low"] = c.Graded ? low : null,
                    ["ci_high"] = c.Graded ? high : null,
                    ["mean_reward"] = c.MeanReward,
                    ["lm_tokens"] = c.LmTokens,
                    ["lm_calls"] = c.LmCalls,
                    ["scorer_tokens"] = c.ScorerTokens,
                    ["scorer_calls"] = c.ScorerCalls,
                    ["generated_tokens"] = c.GeneratedTokens,
                    ["acceptance_rate"] = c.AcceptanceRate,
                    ["wall_seconds"] = c.WallSeconds,
                };
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(Folder, "results.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.WriteAllText(Path.Combine(Folder, "results.md"), Markdown(all, run));
    }

    private static string Markdown(IReadOnlyList<CompareCell> all, JsonObject run)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Task {run["task"]}, split {run["split"]}, {run["problems"]} problems, reward `{run["reward"]}`, seed {run["seed"]}.\n\n");
        sb.Append("| strategy | budget | accuracy (95% CI) | mean reward | LM tokens | scorer tokens | model calls | acceptance | wall s |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var c in all)
        {
            var (low, high) = c.Interval;
            sb.Append(CultureInfo.InvariantCulture,
                $"| {c.Strategy} | {c.Budget?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {(c.Graded ? $"{c.Accuracy:P1} ({low:P1}–{high:P1})" : "–")} | {(c.MeanReward is double r ? r.ToString("F3", CultureInfo.InvariantCulture) : "–")} | {c.LmTokens:N0} | {c.ScorerTokens:N0} | {c.LmCalls + c.ScorerCalls:N0} | {(c.AcceptanceRate is double a ? a.ToString("P1", CultureInfo.InvariantCulture) : "–")} | {c.WallSeconds:F1} |\n");
        }
        return sb.ToString();
    }
}
