using System.Diagnostics;
using System.Text.RegularExpressions;
using DecodeAlign.Cli.Tests.Fuzz;
using Xunit.Abstractions;

namespace DecodeAlign.Cli.Tests;

/// <summary>Runs alone: the fuzz suite redirects the console and the working folder of this process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessCliCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "In-process CLI";
}

/// <summary>
/// The fuzz suite (issue 11): seeded random command lines for every verb and strategy, and damaged model, tokenizer and
/// config files. Invariants for every case: exit code 0 or 2 (130 only when the suite's deadline cancelled it); at
/// most one <c>error:</c> line, exactly one when the exit code is 2; no stack trace and no exception out of the entry
/// point; no file written outside the case's output path; no hang past the deadline plus a grace period.
/// DECODEALIGN_FUZZ_SEED and DECODEALIGN_FUZZ_CASES run other or more cases.
/// </summary>
[Collection(InProcessCliCollection.Name)]
public sealed partial class FuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    [GeneratedRegex(@"^\s+at \S+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    [Fact]
    public void Random_command_lines_and_damaged_model_files_keep_the_invariants()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("DECODEALIGN_FUZZ_SEED"), out var s) ? s : 20261201;
        var cases = int.TryParse(Environment.GetEnvironmentVariable("DECODEALIGN_FUZZ_CASES"), out var c) ? c : 520;
        var random = new Random(seed);
        using var sandbox = new FuzzSandbox();
        var vectors = new OptionVectorFuzzer(random, sandbox);
        var mutator = new ModelFileMutator(random, sandbox);
        var builtin = Path.Combine(SharedModels.RepoRoot, "models");
        var builtinBefore = FuzzSandbox.Snapshot(builtin);
        var cwd = Directory.CreateDirectory(Path.Combine(sandbox.Root, "cwd")).FullName;
        var oldCwd = Environment.CurrentDirectory;
        var violations = new List<string>();
        var codes = new Dictionary<string, int>();
        var errors = new HashSet<string>();
        var watch = Stopwatch.StartNew();
        Environment.CurrentDirectory = cwd;
        try
        {
            for (var i = 0; i < cases && violations.Count < 20; i++)
            {
                string[] args;
                string description;
                string? damaged = null;
                var outOfProcess = false;
                if (random.NextDouble() < 0.25)
                {
                    // A damaged ONNX file runs in its own process: a crash inside ONNX Runtime must not take the suite with it.
                    var model = random.Next(3) == 0 ? "verifier" : "lm";
                    outOfProcess = random.Next(3) == 0;
                    damaged = mutator.Mutate(model, i, outOfProcess, out description);
                    args = model == "lm"
                        ? ["generate", "--model", damaged, "--prompt", "Q: Sam has 4 pens and buys 5 more. How many pens does Sam have now?\nA:", "--max-new-tokens", "6",
                           .. random.Next(2) == 0 ? new[] { "--strategy", "bon", "--n", "2", "--reward", "calc" } : []]
                        : ["eval", "--strategy", "bon", "--n", "2", "--problems", "1", "--max-new-tokens", "24", "--reward", damaged];
                }
                else
                {
                    args = vectors.Next(i);
                    description = "options";
                }
                var watched = new[] { sandbox.Inputs, cwd, damaged ?? sandbox.Inputs };
                var before = watched.Distinct().SelectMany(f => FuzzSandbox.Snapshot(f)).ToDictionary();
                var outcome = outOfProcess ? RunProcess(args) : InProcessCli.Run(args, Deadline, Grace);
                var after = watched.Distinct().SelectMany(f => FuzzSandbox.Snapshot(f)).ToDictionary();
                var problems = Check(outcome, FuzzSandbox.Changes(before, after).ToList());
                var key = outcome.DeadlineFired ? "deadline" : outcome.ExitCode?.ToString() ?? "none";
                codes[key] = codes.GetValueOrDefault(key) + 1;
                foreach (var line in outcome.Stderr.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal))) errors.Add(line.Length > 90 ? line[..90] : line);
                if (problems.Count > 0)
                    violations.Add($"case {i} ({description}): {string.Join("; ", problems)}\n  args: {string.Join(" ", args.Select(a => a.Contains(' ') || a.Length == 0 ? $"'{a}'" : a))}\n  stderr: {Tail(outcome.Stderr)}");
                if (outcome.Hung) break;
            }
        }
        finally
        {
            Environment.CurrentDirectory = oldCwd;
        }
        output.WriteLine($"{cases} cases in {watch.Elapsed.TotalSeconds:F0} s (seed {seed}); outcomes: {string.Join(", ", codes.OrderBy(k => k.Key).Select(k => $"{k.Key} × {k.Value}"))}; {errors.Count} distinct error lines");
        foreach (var e in errors.Order().Take(400)) output.WriteLine("  " + e);
        Assert.Empty(FuzzSandbox.Changes(builtinBefore, FuzzSandbox.Snapshot(builtin)));
        Assert.True(violations.Count == 0, $"{violations.Count} invariant violations:\n{string.Join("\n", violations)}");
        // More than a few deadline hits would mean the cases no longer test quick rejection and bounded runs.
        Assert.True(codes.GetValueOrDefault("deadline") <= cases / 20, $"{codes.GetValueOrDefault("deadline")} cases ran into the {Deadline.TotalSeconds} s deadline");
    }

    private List<string> Check(InProcessCli.Outcome o, List<string> changed)
    {
        var problems = new List<string>();
        if (o.Hung) problems.Add($"still running {Grace.TotalSeconds} s after cancellation");
        if (o.Escaped is { } ex) problems.Add($"{ex.GetType().Name} escaped the entry point: {ex.Message}");
        var allowed = o.DeadlineFired ? new[] { 0, 2, 130 } : [0, 2];
        if (o.ExitCode is int code && !allowed.Contains(code)) problems.Add($"exit code {code}");
        var errorLines = o.Stderr.Split('\n').Count(l => l.StartsWith("error:", StringComparison.Ordinal));
        if (errorLines > 1) problems.Add($"{errorLines} error lines");
        if (o.ExitCode == 2 && errorLines == 0) problems.Add("exit code 2 without an error line");
        if (o.ExitCode == 0 && errorLines > 0) problems.Add("an error line with exit code 0");
        if (StackFrame().IsMatch(o.Stderr) || StackFrame().IsMatch(o.Stdout) || o.Stderr.Contains("Unhandled exception", StringComparison.Ordinal))
            problems.Add("stack trace");
        if (changed.Count > 0) problems.Add($"wrote outside its output: {string.Join(", ", changed.Take(3))}");
        return problems;
    }

    private static InProcessCli.Outcome RunProcess(string[] args)
    {
        using var cli = new RunningCli(args);
        return cli.TryWait(Deadline + Grace) is { } r
            ? new InProcessCli.Outcome(r.ExitCode, r.Stdout, r.Stderr, false, null, false)
            : new InProcessCli.Outcome(null, "", "", true, null, true);
    }

    private static string Tail(string text) => text.Length > 400 ? "…" + text[^400..] : text;
}
