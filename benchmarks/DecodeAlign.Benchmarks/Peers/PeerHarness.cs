using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DecodeAlign.Benchmarks.Peers;

/// <summary>
/// DecodeAlign against ONNX Runtime GenAI and LLamaSharp on the same weights, in one process:
/// <c>dotnet run -c Release --project benchmarks/DecodeAlign.Benchmarks -- peers [--quick] [--reps N] [--models a,b] [--batches 1,16,64] [--threads N] [--greedy] [--spinning] [--out peers.json]</c>.
/// Batch sizes run in turn; within one, every repetition runs every (model, engine) once, engines in a rotating order,
/// so all engines share each moment's machine load; figures are medians over repetitions after one unmeasured warm-up
/// run each. Plain decoding
/// (temperature 1, full vocabulary; --greedy: argmax) from the same prompt ids, a fixed number of new tokens per row; tokens/s counts
/// every row's new tokens over the wall time of the whole call (prefill included). Ratios are printed twice: of the
/// medians, and as the median of per-repetition ratios with the count of repetitions DecodeAlign won.
/// </summary>
internal static class PeerHarness
{
    private static readonly string[] AllModels = ["arith", "stories260K", "llama100m"];

    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var reps = Option(args, "--reps") is string r ? int.Parse(r) : quick ? 1 : 3;
        var names = Option(args, "--models")?.Split(',') ?? AllModels;
        var batches = (Option(args, "--batches") ?? "1,16,64").Split(',').Select(int.Parse).ToArray();
        var outPath = Option(args, "--out") ?? "peers.json";
        // DecodeAlign's --threads (0 = automatic, as the CLI's default), to compare thread settings against the same peers.
        var threads = Option(args, "--threads") is string t ? int.Parse(t) : 0;
        // Greedy runs every engine's argmax instead of its sampler, separating model speed from sampling cost.
        var greedy = args.Contains("--greedy");
        // Adds DecodeAlign with ONNX Runtime's spinning pool threads as a fourth engine: the A/B of that setting in one run.
        var spinning = args.Contains("--spinning");

        var models = PeerModel.Prepare(names, quick);
        var bandwidth = ReadBandwidth.BytesPerSecond();
        Console.WriteLine($"// read bandwidth {bandwidth / 1e9:F1} GB/s ({Environment.ProcessorCount} threads, best of 6 passes over 512 MiB)");

        var loaded = new List<(PeerModel Model, int[] Prompt, IPeerEngine[] Engines)>();
        var agreement = new JsonArray();
        foreach (var m in models)
        {
            var da = new DecodeAlignPeer(m.OnnxDir, threads);
            IPeerEngine[] engines = [da, new GenAiPeer(m.OnnxDir), new LlamaSharpPeer(m.Gguf, da.Model.EncodePrompt(m.PromptText).Length + m.NewTokens, m.WeightBytes)];
            if (spinning) engines = [.. engines, new DecodeAlignPeer(m.OnnxDir, threads, spinning: true)];
            var prompt = da.Model.EncodePrompt(m.PromptText);
            loaded.Add((m, prompt, engines));
            Console.WriteLine($"// {m.Name}: {m.Params:N0} parameters, prompt of {prompt.Length} tokens, {m.NewTokens} new tokens; " + string.Join("; ", engines.Select(e => $"{e.Name}: {e.Settings}")));
            // Greedy decoding must agree between engines (same weights, same arithmetic up to rounding) before speed means anything.
            var reference = engines[0].Generate(prompt, 1, m.NewTokens, greedy: true, seed: 0);
            // GenAI's min_length forbids EOS where the others sample it like any token, so greedy paths part at the first EOS.
            var eos = Array.FindIndex(reference, t => da.Model.EosTokenIds.Contains(t));
            foreach (var e in engines.Skip(1))
            {
                var other = e.Generate(prompt, 1, m.NewTokens, greedy: true, seed: 0);
                var same = reference.Zip(other).TakeWhile(p => p.First == p.Second).Count();
                var note = eos >= 0 ? $" (DecodeAlign's first EOS is new token {eos + 1})" : "";
                Console.WriteLine($"// {m.Name}: greedy tokens, {e.Name} agrees with DecodeAlign on the first {same} of {m.NewTokens}{note}");
                agreement.Add(new JsonObject { ["model"] = m.Name, ["engine"] = e.Name, ["agreeing_prefix"] = same, ["tokens"] = m.NewTokens, ["decodealign_first_eos"] = eos >= 0 ? eos + 1 : null });
            }
        }

        var samples = new Dictionary<(string, int, string), List<double>>();
        var bandwidths = new List<double> { bandwidth };
        // Batch sizes run one after the other, each with its own warm-up and repetitions: a peer's large batch leaves
        // the process slower for the next run of either ONNX Runtime engine (measured: after GenAI's batches of 32 on
        // llama100m, GenAI's next batch-1 call took 0.72-0.80 s against 0.40 s, DecodeAlign's 0.26-0.34 s against
        // 0.21-0.24 s), which a batch-1 sample should not carry; within a batch size everything stays interleaved.
        foreach (var batch in batches)
            for (var rep = -1; rep < reps; rep++)
            {
                if (rep == 0)
                    foreach (var (_, _, engines) in loaded) ((DecodeAlignPeer)engines[0]).ResetTimers(batch);
                // Measured between repetitions like everything else; the bound uses the median (one pass can catch a
                // quiet moment or cached pages and read far above what the run saw).
                bandwidths.Add(ReadBandwidth.BytesPerSecond(passes: 2));
                foreach (var (m, prompt, engines) in loaded)
                    for (var k = 0; k < engines.Length; k++)
                    {
                        var e = engines[(k + rep + 1) % engines.Length];
                        var sw = Stopwatch.StartNew();
                        e.Generate(prompt, batch, m.NewTokens, greedy, seed: (ulong)(rep + 2));
                        sw.Stop();
                        if (rep < 0) continue; // warm-up
                        var key = (m.Name, batch, e.Name);
                        if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
                        list.Add(batch * m.NewTokens / sw.Elapsed.TotalSeconds);
                    }
            }
        bandwidth = Median(bandwidths);
        Console.WriteLine($"// read bandwidth over the run: median {bandwidth / 1e9:F1} GB/s (min {bandwidths.Min() / 1e9:F1}, max {bandwidths.Max() / 1e9:F1}, {bandwidths.Count} measurements)");

        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        Console.WriteLine($"// peers ({(greedy ? "greedy" : "plain sampling")}): {reps} repetitions after 1 warm-up, load average {load} at the end, {Environment.ProcessorCount} logical processors");
        Console.WriteLine("| model | batch | new tokens | DecodeAlign tok/s | ORT GenAI tok/s | LLamaSharp tok/s | vs GenAI | vs LLamaSharp |" + (spinning ? " DecodeAlign (spinning) tok/s | vs spinning |" : ""));
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|" + (spinning ? "---:|---:|" : ""));
        var rows = new JsonArray();
        var pairedLines = new List<string>();
        foreach (var (m, _, engines) in loaded)
            foreach (var batch in batches)
            {
                var med = engines.ToDictionary(e => e.Name, e => Median(samples[(m.Name, batch, e.Name)]));
                var da = med["DecodeAlign"];
                var own = (DecodeAlignPeer)engines[0];
                var outside = own.OutsideRuntime[batch] / own.Wall[batch];
                var spin = med.TryGetValue("DecodeAlign (spinning)", out var sp) ? $" {sp:F0} | {da / sp:F2} |" : "";
                Console.WriteLine($"| {m.Name} | {batch} | {m.NewTokens} | {da:F0} ({100 * outside:F0}% outside ORT) | {med["ORT GenAI"]:F0} | {med["LLamaSharp"]:F0} | {da / med["ORT GenAI"]:F2} | {da / med["LLamaSharp"]:F2} |{spin}");
                var row = new JsonObject { ["model"] = m.Name, ["batch"] = batch, ["new_tokens"] = m.NewTokens };
                var tps = new JsonObject();
                foreach (var e in engines)
                    tps[e.Name] = new JsonObject { ["median"] = Math.Round(med[e.Name], 1), ["samples"] = new JsonArray([.. samples[(m.Name, batch, e.Name)].Select(x => (JsonNode)Math.Round(x, 1))]) };
                row["tokens_per_second"] = tps;
                row["decodealign_share_outside_onnxruntime"] = Math.Round(outside, 3);
                row["ratio_decodealign_to_genai"] = Math.Round(da / med["ORT GenAI"], 3);
                row["ratio_decodealign_to_llamasharp"] = Math.Round(da / med["LLamaSharp"], 3);
                if (med.TryGetValue("DecodeAlign (spinning)", out var spun)) row["ratio_decodealign_to_spinning"] = Math.Round(da / spun, 3);
                // The same samples paired by repetition: both engines of a pair ran back to back, so the machine's swings
                // between repetitions (often 2x here) cancel out of each ratio, where a ratio of medians takes each median
                // from other moments.
                var paired = new List<string>();
                foreach (var (peer, key) in new[] { ("ORT GenAI", "genai"), ("LLamaSharp", "llamasharp") })
                {
                    var (median, wins, n) = Paired(samples[(m.Name, batch, "DecodeAlign")], samples[(m.Name, batch, peer)]);
                    row[$"paired_ratio_decodealign_to_{key}"] = new JsonObject { ["median"] = Math.Round(median, 3), ["decodealign_faster_in"] = wins, ["repetitions"] = n };
                    paired.Add($"{median:F2} ({wins} of {n})");
                }
                pairedLines.Add($"| {m.Name} | {batch} | {string.Join(" | ", paired)} |");
                rows.Add(row);
            }
        Console.WriteLine("| model | batch | vs GenAI per repetition: median (DecodeAlign faster in) | vs LLamaSharp per repetition |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var line in pairedLines) Console.WriteLine(line);

        var bounds = new JsonArray();
        foreach (var (m, _, _) in loaded.Where(l => l.Model.Params > 10_000_000))
        {
            // Batch 1 reads every weight once per token; for a tied classifier the embedding matrix is that read.
            var bound = bandwidth / m.WeightBytes;
            var got = Median(samples[(m.Name, 1, "DecodeAlign")]);
            // The peak (typically the measurement before any engine has threads) is the machine alone; the median is what the run saw.
            var peak = bandwidths.Max() / m.WeightBytes;
            Console.WriteLine($"// {m.Name}: bandwidth bound {bound:F1} tok/s ({m.WeightBytes / 1e6:F0} MB of F32 weights per token at the median {bandwidth / 1e9:F1} GB/s), {peak:F1} tok/s at the peak {bandwidths.Max() / 1e9:F1} GB/s; DecodeAlign batch 1 reaches {got:F1} tok/s = {100 * got / bound:F0}% (of the peak bound: {100 * got / peak:F0}%)");
            bounds.Add(new JsonObject
            {
                ["model"] = m.Name, ["weight_bytes_per_token"] = m.WeightBytes, ["bound_tokens_per_second"] = Math.Round(bound, 2),
                ["peak_bound_tokens_per_second"] = Math.Round(peak, 2), ["decodealign_batch1"] = Math.Round(got, 2),
                ["share_of_bound"] = Math.Round(got / bound, 3), ["share_of_peak_bound"] = Math.Round(got / peak, 3),
            });
        }

        var settings = new JsonObject();
        foreach (var (m, _, engines) in loaded)
            settings[m.Name] = new JsonObject(engines.Select(e => KeyValuePair.Create(e.Name, (JsonNode?)e.Settings)));
        var doc = new JsonObject
        {
            ["date_utc"] = DateTime.UtcNow.ToString("u"),
            ["logical_processors"] = Environment.ProcessorCount,
            ["load_average_at_end"] = load,
            ["repetitions"] = reps,
            ["decoding"] = greedy ? "greedy" : "plain sampling (temperature 1, full vocabulary)",
            ["read_bandwidth_bytes_per_second"] = Math.Round(bandwidth),
            ["read_bandwidth_measurements"] = new JsonArray([.. bandwidths.Select(b => (JsonNode)Math.Round(b))]),
            ["settings"] = settings,
            ["results"] = rows,
            ["bandwidth_bounds"] = bounds,
            ["greedy_agreement"] = agreement,
        };
        File.WriteAllText(outPath, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"// wrote {Path.GetFullPath(outPath)}");
        foreach (var (_, _, engines) in loaded)
            foreach (var e in engines) e.Dispose();
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>Median of the per-repetition ratios ours ÷ theirs, and in how many repetitions ours was faster.</summary>
    private static (double Median, int Wins, int Count) Paired(List<double> ours, List<double> theirs)
    {
        var ratios = ours.Zip(theirs, (a, b) => a / b).ToList();
        return (Median(ratios), ratios.Count(r => r > 1), ratios.Count);
    }

    private static double Median(List<double> x)
    {
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
