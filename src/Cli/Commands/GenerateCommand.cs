using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecodeAlign.Chat;
using DecodeAlign.Decoding;
using DecodeAlign.Models.Rewards;
using DecodeAlign.Kernels;

namespace DecodeAlign.Cli.Commands;

/// <summary><c>decodealign generate</c>: decodes one prompt with a chosen strategy, streaming text or printing JSON.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var model = new Option<string?>("--model") { Description = "Model folder (model.onnx + tokenizer.json). Default: the built-in models/arith/lm." };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text; empty starts from BOS alone.", DefaultValueFactory = _ => "" };
        var strategies = new StrategyOptions();
        var reward = new Option<string?>("--reward") { Description = RewardSpec.OptionDescription };
        var value = new Option<string?>("--value") { Description = "Value model folder (default: built-in with the built-in LM)." };
        var baseline = new Option<string?>("--baseline") { Description = "Baseline policy folder for tqstar (default: built-in models/arith/aligned with the built-in LM)." };
        var task = new Option<string?>("--task") { Description = "Task whose answer extractor mv/wmv vote with (default arith with the built-in LM)." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Maximum tokens to generate.", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature (> 0; greedy ignores it).", DefaultValueFactory = _ => 1f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass in (0, 1] (1 = off).", DefaultValueFactory = _ => 1f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p × the top probability (0 = off).", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed; the same seed gives the same output on every backend.", DefaultValueFactory = _ => 0UL };
        var samples = new Option<int>("--num-samples") { Description = "Independent samples of the prompt, decoded as one batch (sample i uses row id i).", DefaultValueFactory = _ => 1 };
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable); it is removed from the output.", AllowMultipleArgumentsPerToken = false };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating past end-of-sequence tokens." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (text, tokens, finish_reason, stats) instead of streaming text." };
        var cmd = new Command("generate", "Generate a continuation of a prompt.")
        {
            model, reward, value, baseline, task, prompt, maxNew, temperature, topP, minP, seed, samples, stop, ignoreEos, json,
        };
        strategies.AddTo(cmd);
        common.AddTo(cmd);
        cmd.SetAction((pr, ct) =>
        {
            var entry = strategies.Entry(pr);
            var name = entry.Name;
            var count = pr.GetValue(samples);
            if (count < 1) throw new CliUsageException($"--num-samples must be >= 1 (got {count}).");
            var generation = new GenerationOptions
            {
                MaxNewTokens = pr.GetValue(maxNew),
                StopStrings = pr.GetValue(stop) ?? [],
                IgnoreEos = pr.GetValue(ignoreEos),
                Sampling = new SamplingParameters
                {
                    Temperature = name == "greedy" ? 0f : pr.GetValue(temperature),
                    TopP = pr.GetValue(topP),
                    MinP = pr.GetValue(minP),
                    Seed = pr.GetValue(seed),
                },
            };
            var settings = strategies.Read(pr, generation, temperature: temperature);
            settings.CheckTemperature();
            settings.Generation.Validate();

            using var kernels = common.CreateKernels(pr);
            var builtin = pr.GetValue(model) is null;
            using var models = AlignmentModels.Load(pr.GetValue(model), pr.GetValue(reward), pr.GetValue(value), common.ModelOptions(pr, count * settings.RowsPerPrompt),
                settings.NeedsReward, settings.NeedsValue, pr.GetValue(baseline), settings.NeedsBaseline);
            var taskName = pr.GetValue(task) ?? (builtin ? "arith" : null);
            var potentials = models.Potentials(settings.Beta, taskName is null ? null : Tasks.TaskRegistry.Get(taskName).ExtractAnswer);
            var lm = models.Lm;
            var ids = lm.EncodePrompt(pr.GetValue(prompt)!);
            MemoryBudget.Check(count, settings, models, Math.Min(lm.Lm.Info.ContextLength, ids.Length + settings.Generation.MaxNewTokens), common.ReadMemoryLimit(pr),
                "--num-samples and the strategy's budget");
            var asJson = pr.GetValue(json);
            var streaming = !asJson && count == 1 && entry.Streams;
            var paced = new PacedTextWriter(Console.Out, PacedTextWriter.ScreenRefresh);
            var decoder = settings.Create(models, kernels, potentials, streaming ? (_, text) => paced.Write(text) : null);
            IReadOnlyList<DecodeResult> results;
            try
            {
                results = decoder.Decode(Enumerable.Repeat(ids, count).ToArray(), ct);
            }
            finally
            {
                paced.Flush();
            }
            var stats = Stats(results[0].Trace.Compute);
            if (results[0].Reward is double r) stats["reward"] = r;
            if (asJson)
            {
                var obj = Describe(results[0]);
                obj["stats"] = stats;
                obj["strategy"] = decoder.Name;
                obj["backend"] = kernels.Kind.ToString();
                obj["prompt_tokens"] = ids.Length;
                if (count > 1) obj["samples"] = new JsonArray(results.Select(r => (JsonNode)Describe(r)).ToArray());
                Console.Out.WriteLine(obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                if (count > 1)
                    for (var i = 0; i < results.Count; i++) Console.Out.WriteLine($"--- sample {i} ---\n{results[i].Text}");
                else Console.Out.WriteLine(streaming ? "" : results[0].Text);
                var c = results[0].Trace.Compute;
                Console.Error.WriteLine(FormattableString.Invariant(
                    $"[{c.GeneratedTokens} tokens, {TokensPerSecond(c):F1} tok/s, prefill {c.PrefillTime.TotalMilliseconds:F1} ms, {PerTokenMs(c):F2} ms/token, finish: {results[0].Finish}{(results[0].Finish == FinishReason.Cancelled ? " (partial result)" : "")}]"));
            }
            return Task.FromResult(results.Any(r => r.Finish == FinishReason.Cancelled) ? CliErrors.Cancelled : 0);
        });
        return cmd;
    }

    private static JsonObject Describe(DecodeResult r)
    {
        var o = new JsonObject
        {
            ["text"] = r.Text,
            ["tokens"] = new JsonArray(r.Tokens.Select(t => (JsonNode)t).ToArray()),
            ["finish_reason"] = r.Finish.ToString(),
            ["reward"] = r.Reward,
        };
        var t = r.Trace;
        if (t.AcceptanceRate is double a) o["acceptance_rate"] = a;
        if (t.LogNormalizer is double z) o["log_normalizer"] = z;
        if (t.Candidates.Count > 0)
            o["candidates"] = new JsonArray(t.Candidates.Select(c => (JsonNode)new JsonObject
            {
                ["text"] = c.Text,
                ["reward"] = c.Reward,
                ["answer"] = c.Answer,
                ["accepted"] = c.Accepted,
                ["weight"] = c.Weight,
            }).ToArray());
        return o;
    }

    private static double TokensPerSecond(ComputeTrace c) => c.GeneratedTokens / Math.Max(1e-9, c.WallTime.TotalSeconds);

    /// <summary>Decode time per generated token; 0 when none was generated (a run cancelled during prefill).</summary>
    private static double PerTokenMs(ComputeTrace c) => c.GeneratedTokens > 0 ? (c.WallTime - c.PrefillTime).TotalMilliseconds / c.GeneratedTokens : 0;

    private static JsonObject Stats(ComputeTrace c)
    {
        return new JsonObject
        {
            ["generated_tokens"] = c.GeneratedTokens,
            ["tokens_per_second"] = TokensPerSecond(c),
            ["prefill_ms"] = c.PrefillTime.TotalMilliseconds,
            ["per_token_ms"] = PerTokenMs(c),
            ["wall_ms"] = c.WallTime.TotalMilliseconds,
            ["model_ms"] = c.ModelTime.TotalMilliseconds,
            ["lm_calls"] = c.LmCalls,
            ["lm_tokens"] = c.LmTokens,
        };
    }
}
