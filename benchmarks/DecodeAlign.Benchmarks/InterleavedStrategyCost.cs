using System.Diagnostics;

namespace DecodeAlign.Benchmarks;

/// <summary>
/// The strategy-cost ratios measured so that a changing machine load cannot skew them: each round decodes the same
/// problem (and seed) with every <see cref="StrategyCostBenchmarks"/> method in turn, so all methods share each
/// moment's load; ratios are of medians over the rounds, after warm-up rounds that are not counted.
/// <c>dotnet run -c Release --project benchmarks/DecodeAlign.Benchmarks -- interleaved [rounds] [warmup]</c>.
/// </summary>
internal static class InterleavedStrategyCost
{
    private sealed record Method(string Name, string Baseline, Func<object> Run);

    public static void Run(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0]) : 48;
        var warmup = args.Length > 1 ? int.Parse(args[1]) : 8;
        var b = new StrategyCostBenchmarks();
        b.Setup();
        Method[] methods =
        [
            new("one sample", "one sample", b.OneSample),
            new("best-of-16", "one sample", b.BestOf16),
            new("qalign 16 steps", "one sample", b.QAlign16),
            new("sample 48 tokens", "sample 48 tokens", b.Sample48),
            new("args k=10, 48 tokens", "sample 48 tokens", b.Args48),
            new("args k=10 serial, 48 tokens", "sample 48 tokens", b.Args48Serial),
            new("args k=10 as k rows, 48 tokens", "sample 48 tokens", b.Args48Rows),
            new("vas k=20, 48 tokens", "sample 48 tokens", b.Vas48),
            new("deal k=5 l=8 b=2, 48 tokens", "sample 48 tokens", b.Deal48),
            new("tqstar k=10 L=16 m=1, 48 tokens", "sample 48 tokens", b.TransferQ48),
        ];
        var wall = methods.ToDictionary(m => m.Name, _ => new List<double>());
        var cpu = methods.ToDictionary(m => m.Name, _ => new List<double>());
        var process = Process.GetCurrentProcess();
        for (var round = 0; round < warmup + rounds; round++)
        {
            foreach (var m in methods)
            {
                b.NextProblem = round;
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                m.Run();
                sw.Stop();
                process.Refresh();
                if (round < warmup) continue;
                wall[m.Name].Add(sw.Elapsed.TotalMilliseconds);
                cpu[m.Name].Add((process.TotalProcessorTime - cpu0).TotalMilliseconds);
            }
        }
        b.Cleanup();
        static double Median(List<double> x)
        {
            var s = x.Order().ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
        Console.WriteLine($"// interleaved: {rounds} rounds after {warmup} warm-up rounds, load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a")} at the end, {Environment.ProcessorCount} logical processors");
        Console.WriteLine("| method | median ms | ratio of medians | mean CPU ms | ratio of mean CPU |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var m in methods)
        {
            var ratio = Median(wall[m.Name]) / Median(wall[m.Baseline]);
            var cpuRatio = cpu[m.Name].Average() / cpu[m.Baseline].Average();
            Console.WriteLine($"| {m.Name} | {Median(wall[m.Name]):F2} | {ratio:F2} | {cpu[m.Name].Average():F2} | {cpuRatio:F2} |");
        }
    }
}
