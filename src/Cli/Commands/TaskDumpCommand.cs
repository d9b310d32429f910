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
            if (path is null)
            {
                using var stdout = Console.OpenStandardOutput();
                ProblemDump.Write(t, s, first, n, stdout);
                return 0;
            }
            if (Directory.Exists(path)) throw new CliUsageException($"--out {path} is a folder; give a file path (e.g. {Path.Combine(path, "problems.jsonl")}).");
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (!Directory.Exists(folder)) throw new CliUsageException($"--out {path}: the folder {folder} does not exist.");
            // An existing file of length 0 holds nothing to protect, and devices and pipes (/dev/null, /dev/full, a FIFO)
            // report length 0 and must be written in place, never replaced by a moved file.
            if (File.Exists(path) && new FileInfo(path).Length == 0)
            {
                using var target = new FileStream(path, FileMode.Open, FileAccess.Write);
                ProblemDump.Write(t, s, first, n, target);
                return 0;
            }
            // Written beside the target and moved over it once complete, so a full disk never leaves a truncated file.
            var staging = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
            try
            {
                using (var stream = File.Create(staging)) ProblemDump.Write(t, s, first, n, stream);
                File.Move(staging, path, overwrite: true);
            }
            finally
            {
                File.Delete(staging);
            }
            return 0;
        });
        return cmd;
    }
}
