using System.Text.Json;
using System.Text.Json.Nodes;

namespace DecodeAlign.Cli.Tests;

/// <summary>
/// Every strategy's output on the built-in arith models at fixed seeds, compared with tokens recorded before the
/// rollout-engine redesign (tests/fixtures/golden/strategy-tokens.json; deal and tqstar, which the redesign added, were
/// recorded once they ran on the finished engine): a refactoring must not change a single token,
/// finish reason or candidate. Set DECODEALIGN_UPDATE_GOLDEN=1 to re-record after an intended behaviour change.
/// </summary>
public class GoldenTokenTests
{
    private static readonly string[] Prompts =
    [
        "Q: Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?\nA:",
        "Q: Ivy has 49 coins. She finds 40 more coins. Then she gets 30 coins from Zoe. How many coins does Ivy have now?\nA:",
    ];

    /// <summary>Strategy configurations: the options after --strategy, as a user types them.</summary>
    public static TheoryData<string> Configs => new()
    {
        "greedy",
        "sample --num-samples 3",
        "sample --temperature 0.7 --top-p 0.9 --num-samples 2",
        "sample --stop . --num-samples 2",
        "bon --n 4 --num-samples 2",
        "bon --n 6 --prune-at 4 --prune-at 8",
        "bon --n 4 --reward likelihood",
        "bon --n 4 --reward verifier=1,calc=0.5",
        "mv --n 5",
        "wmv --n 4 --beta 2",
        "args --num-samples 2",
        "args --temperature 0.5 --weight 2",
        "args --block-size 4 --n 3",
        "args --reward keyword:cards",
        "vas --num-samples 2",
        "vas --top-k 5 --beta 2",
        "qalign --n 6",
        "qalign --n 6 --select mv --burn-in 2",
        "smc --n 4 --num-samples 2",
        "smc --n 4 --block-size 4 --select wmv",
        "deal",
        "deal --lambda 3 --beams 3 --lookahead 4",
        "deal --reward keyword:cards --lambda 5",
        "tqstar --num-samples 2",
        "tqstar --rollouts 2 --rollout-temperature 1 --temperature 0",
    };

    private static string GoldenPath([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "fixtures", "golden", "strategy-tokens.json"));

    private static readonly object WriteLock = new();

    [Theory]
    [MemberData(nameof(Configs))]
    public void Strategy_output_is_unchanged(string config)
    {
        var actual = new JsonObject();
        for (var p = 0; p < Prompts.Length; p++)
        {
            string[] args = ["generate", "--prompt", Prompts[p], "--strategy", .. config.Split(' '), "--seed", "11", "--max-new-tokens", "40", "--json"];
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 0, $"{config}: exit {r.ExitCode}: {r.Stderr}");
            actual[$"prompt{p}"] = Summarise(JsonNode.Parse(r.Stdout)!.AsObject());
        }

        var path = GoldenPath();
        if (Environment.GetEnvironmentVariable("DECODEALIGN_UPDATE_GOLDEN") == "1")
        {
            lock (WriteLock)
            {
                var all = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : new JsonObject();
                all[config] = actual;
                var sorted = new JsonObject(all.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
                File.WriteAllText(path, sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            }
            return;
        }
        Assert.True(File.Exists(path), $"golden file missing: {path}");
        var golden = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(golden.ContainsKey(config), $"no golden record for '{config}'; record with DECODEALIGN_UPDATE_GOLDEN=1");
        Compare(golden[config]!, actual, config);
    }

    /// <summary>What must not change: each sample's tokens, finish reason and reward, and every candidate's text, answer and acceptance.</summary>
    private static JsonNode Summarise(JsonObject result)
    {
        var samples = result["samples"]?.AsArray().Select(s => s!.AsObject()).ToList() ?? [result];
        return new JsonArray(samples.Select(s => (JsonNode)new JsonObject
        {
            ["tokens"] = s["tokens"]!.DeepClone(),
            ["finish"] = s["finish_reason"]!.DeepClone(),
            ["reward"] = s["reward"]?.DeepClone(),
            ["candidates"] = new JsonArray((s["candidates"]?.AsArray() ?? []).Select(c => (JsonNode)new JsonObject
            {
                ["text"] = c!["text"]!.DeepClone(),
                ["reward"] = c["reward"]?.DeepClone(),
                ["answer"] = c["answer"]?.DeepClone(),
                ["accepted"] = c["accepted"]?.DeepClone(),
            }).ToArray()),
        }).ToArray());
    }

    /// <summary>Exact equality except rewards, which may differ in the last float bits if a sum is reassociated.</summary>
    private static void Compare(JsonNode? expected, JsonNode? actual, string where)
    {
        if (expected is JsonValue ev && actual is JsonValue av && ev.TryGetValue<double>(out var e) && av.TryGetValue<double>(out var a) && where.EndsWith(".reward"))
        {
            Assert.True(Math.Abs(e - a) <= 1e-4 * Math.Max(1, Math.Abs(e)), $"{where}: expected {e}, got {a}");
            return;
        }
        switch (expected)
        {
            case JsonObject eo:
                var ao = Assert.IsType<JsonObject>(actual);
                Assert.True(eo.Select(kv => kv.Key).SequenceEqual(ao.Select(kv => kv.Key)), $"{where}: keys differ");
                foreach (var (key, value) in eo) Compare(value, ao[key], $"{where}.{key}");
                break;
            case JsonArray ea:
                var aa = Assert.IsType<JsonArray>(actual);
                Assert.True(ea.Count == aa.Count, $"{where}: expected {ea.Count} entries, got {aa.Count}");
                for (var i = 0; i < ea.Count; i++) Compare(ea[i], aa[i], $"{where}[{i}]");
                break;
            default:
                Assert.True(JsonNode.DeepEquals(expected, actual), $"{where}: expected {expected?.ToJsonString()}, got {actual?.ToJsonString()}");
                break;
        }
    }
}
