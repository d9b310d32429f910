using System.CommandLine;
using DecodeAlign.Tasks;

namespace DecodeAlign.Cli.Commands;

/// <summary><c>decodealign task-dump</c>: writes a task's problems as JSON lines, so the Python forge trains on exactly the C# generator's data.</summary>
public static class TaskDumpCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var task = new Option<string>("--task") { Description = "Task name (arith).", DefaultValueFactory = _ => "arith" };
        var split = new Option<string>("--split") { Description = "train, validation or test.", DefaultValueFactory = _ => "train" };
        var start = new Option<int>("--start") { Description = "Index of the first problem.", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("--count") { Description = "Number of problems.", DefaultValueFactory = _ => 100 };
        var output = new Option<string?>("--out") { Description = "Output .jsonl file (standard output when absent)." };
        var cmd = new Command("task-dump", "Write problems as JSON lines {split, index, prompt, response, answer}.")
        {
            task, split, start, count, output,
        };
        cmd.SetAction(pr =>
        {
            var t = TaskRegistry.Get(pr.GetValue(task)!);
            var s = Splits.Parse(pr.GetValue(split)!);
            var first = pr.GetValue(start);
            var n = pr.GetValue(count);
            if (first < 0 || n < 0 || (long)first + n > Splits.Capacity)
                throw new CliUsageException($"--start and --count must be non-negative with start + count <= {Splits.Capacity}.");
            var path = pr.GetValue(output);
            using var stream = path is null ? Console.OpenStandardOutput() : File.Create(path);
            ProblemDump.Write(t, s, first, n, stream);
            return 0;
        });
        return cmd;
    }
}
