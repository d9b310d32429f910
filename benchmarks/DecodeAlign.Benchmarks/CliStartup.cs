using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// Issue 12's start-up check: <c>decodealign generate</c> of 256 tokens on stories260K in a fresh process against the same
/// command run warm inside this process, and optionally llama2.c's <c>run</c>, interleaved round by round so that all
/// share each moment's machine load; prints medians and their ratios.
/// <c>dotnet run -c Release --project benchmarks/DecodeAlign.Benchmarks -- cli-startup [--rounds N] [--warmup N]
/// [--cli PATH] [--model DIR] [--tokens N] [--seed N] [--llama2c RUN]</c>.
/// </summary>
internal static partial class CliStartup
{
    public static int Run(string[] args)
    {
        string? Arg(string name) => Array.IndexOf(args, name) is var i && i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var rounds = int.Parse(Arg("--rounds") ?? "9", CultureInfo.InvariantCulture);
        var warmup = int.Parse(Arg("--warmup") ?? "5", CultureInfo.InvariantCulture);
        var tokens = Arg("--tokens") ?? "256";
        var seed = Arg("--seed") ?? "1";
        // --cli may repeat: several builds (say, with and without ReadyToRun) then share each round's load.
        var clis = args.Select((a, i) => (a, i)).Where(x => x.a == "--cli" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToArray();
        if (clis.Length == 0) clis = [Path.Combine(BenchmarkModels.RepoRoot, "src", "Cli", "bin", "Release", "net10.0", "decodealign")];
        var model = Arg("--model") ?? BenchmarkModels.Stories260K();
        var llama2c = Arg("--llama2c");
        var shared = Path.GetFullPath(Path.Combine(BenchmarkModels.RepoRoot, "..", "shared", "models", "stories260K"));
        foreach (var cli in clis)
            if (!File.Exists(cli)) throw new InvalidOperationException($"{cli} is missing: build src/Cli in Release first, or pass --cli.");

        // Sampling at temperature 1 with a fixed seed, as llama2.c's `run -t 1.0 -s 1`; --ignore-eos so every run decodes the full count.
        string[] generate = ["generate", "--model", model, "--max-new-tokens", tokens, "--seed", seed, "--temperature", "1.0", "--ignore-eos"];

        var warm = new List<double>();
        var fresh = clis.Select(_ => new List<double>()).ToArray();
        var freshWall = clis.Select(_ => new List<double>()).ToArray();
        var freshEndToEnd = clis.Select(_ => new List<double>()).ToArray();
        var c = new List<double>();
        var cWall = new List<double>();
        var freshText = new string?[clis.Length];
        string? warmText = null;
        for (var i = 0; i < warmup; i++) InProcess(generate, out _);
        for (var round = 0; round < rounds; round++)
        {
            warm.Add(InProcess(generate, out warmText));
            for (var k = 0; k < clis.Length; k++)
            {
                var (tps, wall, text) = Spawn(clis[k], generate, ReportedTokensPerSecond);
                fresh[k].Add(tps);
                freshWall[k].Add(wall);
                freshEndToEnd[k].Add(double.Parse(tokens, CultureInfo.InvariantCulture) / (wall / 1000));
                freshText[k] ??= text;
            }
            if (llama2c is null) continue;
            var (ctps, cwall, _) = Spawn(llama2c, [Path.Combine(shared, "stories260K.bin"), "-z", Path.Combine(shared, "tok512.bin"), "-t", "1.0", "-n", tokens, "-s", seed],
                static err => Llama2cRate().Match(err) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN);
            c.Add(ctps);
            cWall.Add(cwall);
        }

        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        Console.WriteLine($"// cli-startup: {rounds} interleaved rounds after {warmup} warm-up runs, {tokens} tokens, seed {seed}, load average {load} at the end, {Environment.ProcessorCount} logical processors");
        Console.WriteLine("| measure | median | all rounds |");
        Console.WriteLine("|---|---:|---|");
        Row("warm in-process tok/s (CLI's own figure)", warm);
        if (llama2c is not null)
        {
            Row("llama2.c run tok/s (its own figure)", c);
            Row("llama2.c run wall ms (whole process)", cWall);
        }
        for (var k = 0; k < clis.Length; k++)
        {
            var tag = clis.Length > 1 ? $" [cli {k}]" : "";
            Row($"fresh-process tok/s (CLI's own figure){tag}", fresh[k]);
            Row($"fresh-process wall ms (whole process){tag}", freshWall[k]);
            Row($"fresh-process end-to-end tok/s (tokens / whole process){tag}", freshEndToEnd[k]);
        }
        var same = true;
        for (var k = 0; k < clis.Length; k++)
        {
            Console.WriteLine($"cli {k}: {clis[k]}");
            Console.WriteLine($"  fresh / warm (CLI's figures, medians): {Median(fresh[k]) / Median(warm):F2} (must hold: >= 0.70)");
            if (llama2c is not null)
            {
                Console.WriteLine($"  fresh / llama2.c (own figures, medians): {Median(fresh[k]) / Median(c):F2} (must hold: >= 0.6)");
                Console.WriteLine($"  fresh / llama2.c (whole-process wall, medians): {Median(cWall) / Median(freshWall[k]):F2}");
            }
            // The fresh and the warm run share seed and arguments, so a speed setting that changed tokens would show here.
            var equal = freshText[k] == warmText;
            same &= equal;
            Console.WriteLine($"  fresh-process text {(equal ? "equals" : "DIFFERS FROM")} the warm in-process text");
        }
        return same ? 0 : 1;
    }

    private static void Row(string name, List<double> xs) =>
        Console.WriteLine($"| {name} | {Median(xs):F0} | {string.Join(" ", xs.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))} |");

    private static double Median(List<double> x)
    {
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Runs the CLI's Main in this process with stdout and stderr captured; returns its tok/s figure.</summary>
    private static double InProcess(string[] args, out string text)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var outText = new StringWriter();
        var errText = new StringWriter();
        Console.SetOut(outText);
        Console.SetError(errText);
        try
        {
            var rc = DecodeAlign.Cli.Program.Main(args);
            if (rc != 0) throw new InvalidOperationException($"in-process generate exited {rc}: {errText}");
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
        text = outText.ToString();
        return ReportedTokensPerSecond(errText.ToString());
    }

    private static (double TokensPerSecond, double WallMs, string Stdout) Spawn(string exe, string[] args, Func<string, double> rate)
    {
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        sw.Stop();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} exited {p.ExitCode}: {stderr.Result}");
        return (rate(stderr.Result), sw.Elapsed.TotalMilliseconds, stdout.Result);
    }

    private static double ReportedTokensPerSecond(string stderr) =>
        CliRate().Match(stderr) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"no tok/s figure in: {stderr}");

    [GeneratedRegex(@"\d+ tokens, ([0-9.]+) tok/s")]
    private static partial Regex CliRate();

    [GeneratedRegex(@"achieved tok/s: ([0-9.]+)")]
    private static partial Regex Llama2cRate();
}
