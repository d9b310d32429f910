using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DecodeAlign.Decoding;
using DecodeAlign.Kernels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DecodeAlign.Chat;

/// <summary>
/// <see cref="IChatClient"/> over a <see cref="ModelBundle"/> and the strategy catalog, as ONNX Runtime GenAI's and
/// LLamaSharp's chat clients are over theirs. ChatOptions map as expected (Temperature, TopP, TopK, MaxOutputTokens,
/// Seed, StopSequences); the strategy, its options and the reward come from <see cref="DecodeAlignChatOptions"/> or
/// <see cref="ChatOptionKeys"/>. Thread-safe: concurrent requests share the bundle's loaded models, each decoding in
/// sessions and kernels of its own, so a request's output depends only on the request (seed included).
/// </summary>
public sealed class DecodeAlignChatClient : IChatClient
{
    private readonly bool _ownsBundle;
    private readonly ILogger _logger;

    /// <summary>A client over <paramref name="bundle"/>; <paramref name="ownsBundle"/> disposes the bundle with the client.</summary>
    public DecodeAlignChatClient(ModelBundle bundle, DecodeAlignChatClientOptions? options = null, ILogger<DecodeAlignChatClient>? logger = null,
        DecodeAlignMetrics? metrics = null, bool ownsBundle = false)
    {
        Bundle = bundle;
        Options = options ?? new DecodeAlignChatClientOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Metrics = metrics;
        _ownsBundle = ownsBundle;
        StrategyCatalog.Get(Options.DefaultStrategy); // an unknown default fails here, not on the first request
    }

    /// <summary>How often a strategy that chooses at the end reports progress while it decodes.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The models requests run on.</summary>
    public ModelBundle Bundle { get; }

    /// <summary>The client's defaults.</summary>
    public DecodeAlignChatClientOptions Options { get; }

    /// <summary>Where finished requests are recorded, if anywhere.</summary>
    public DecodeAlignMetrics? Metrics { get; }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false)) updates.Add(update);
        return updates.ToChatResponse();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = Resolve(messages, options);
        var responseId = Guid.NewGuid().ToString("N");
        var text = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        // Built here, so that bad options or missing potentials fail before the first update.
        var kernels = KernelBackends.Create(Options.Backend);
        IDecodingStrategy strategy;
        try
        {
            strategy = request.Entry.Create(request.Strategy with
            {
                Kernels = kernels,
                OnText = request.Entry.Streams ? (_, delta) => text.Writer.TryWrite(delta) : null,
            });
        }
        catch
        {
            kernels.Dispose();
            throw;
        }
        var decode = Task.Run(() =>
        {
            try
            {
                return strategy.Decode([request.Prompt], cancellationToken)[0];
            }
            finally
            {
                text.Writer.TryComplete();
                kernels.Dispose();
            }
        }, CancellationToken.None);

        if (!request.Entry.Streams)
        {
            // A strategy that chooses at the end has nothing to show until then: report that it is working, twice a second.
            var started = System.Diagnostics.Stopwatch.StartNew();
            do
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, [])
                {
                    ResponseId = responseId,
                    ModelId = Options.ModelId,
                    AdditionalProperties = new() { [ChatOptionKeys.Progress] = $"{request.Entry.Name}: decoding ({request.Entry.Budget ?? "search"}), {started.Elapsed.TotalSeconds:F1} s" },
                };
            }
            while (await Task.WhenAny(decode, Task.Delay(ProgressInterval, CancellationToken.None)).ConfigureAwait(false) != decode);
        }
        await foreach (var delta in text.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            yield return new ChatResponseUpdate(ChatRole.Assistant, delta) { ResponseId = responseId, ModelId = Options.ModelId };
        var result = await decode.ConfigureAwait(false);

        // A strategy cancelled between its decoding steps may still return a finished state; the token decides.
        if (result.Finish == FinishReason.Cancelled || cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("decodealign {Strategy}: cancelled after {Tokens} tokens", request.Entry.Name, result.Tokens.Length);
            throw new OperationCanceledException("The request was cancelled; the partial response was discarded.", cancellationToken);
        }
        // Strategies that choose at the end deliver the chosen response now, in the pieces the detokenizer releases.
        if (!request.Entry.Streams)
            foreach (var piece in Pieces(result.Tokens, request.Prompt))
                yield return new ChatResponseUpdate(ChatRole.Assistant, piece) { ResponseId = responseId, ModelId = Options.ModelId };

        Metrics?.Record(request.Entry.Name, result);
        _logger.LogInformation("decodealign {Strategy}: {Tokens} tokens, {Finish}, {Seconds:F3} s", request.Entry.Name, result.Tokens.Length, result.Finish, result.Trace.Compute.WallTime.TotalSeconds);
        yield return Final(request, result, responseId);
    }

    /// <summary>The pieces of a response's text as a streaming detokenizer releases them (never half a character).</summary>
    private IEnumerable<string> Pieces(int[] tokens, int[] prompt)
    {
        var detok = Bundle.Lm.Tokenizer.CreateStreamingDetokenizer();
        foreach (var t in prompt) detok.Push(t);
        foreach (var t in tokens)
            if (detok.Push(t) is { Length: > 0 } piece) yield return piece;
        if (detok.Flush() is { Length: > 0 } rest) yield return rest;
    }

    private ChatResponseUpdate Final(Request request, DecodeResult result, string responseId)
    {
        var c = result.Trace.Compute;
        var counts = new AdditionalPropertiesDictionary<long>
        {
            [ChatOptionKeys.LmTokens] = c.LmTokens,
            [ChatOptionKeys.ScorerTokens] = c.RewardTokens,
            [ChatOptionKeys.ModelCalls] = c.LmCalls + c.RewardCalls,
            [ChatOptionKeys.GeneratedTokens] = c.GeneratedTokens,
        };
        if (result.Trace.AcceptanceRate is double a) counts[ChatOptionKeys.AcceptancePermille] = (long)Math.Round(a * 1000);
        var usage = new UsageDetails
        {
            InputTokenCount = request.Prompt.Length,
            OutputTokenCount = result.Tokens.Length,
            TotalTokenCount = request.Prompt.Length + result.Tokens.Length,
            AdditionalCounts = counts,
        };
        var properties = new AdditionalPropertiesDictionary { [ChatOptionKeys.StrategyUsed] = request.Entry.Name };
        if (result.Reward is double r) properties[ChatOptionKeys.ResponseReward] = r;
        if (result.Trace.AcceptanceRate is double rate) properties[ChatOptionKeys.AcceptanceRate] = rate;
        return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
        {
            ResponseId = responseId,
            ModelId = Options.ModelId,
            FinishReason = result.Finish switch
            {
                FinishReason.EndOfSequence or FinishReason.StopString => ChatFinishReason.Stop,
                FinishReason.MaxTokens or FinishReason.ContextLength => ChatFinishReason.Length,
                var other => new ChatFinishReason(other.ToString()),
            },
            AdditionalProperties = properties,
        };
    }

    /// <summary>A request with everything resolved: the catalog entry, the strategy request (kernels and streaming added per run) and the prompt.</summary>
    private sealed record Request(StrategyEntry Entry, StrategyRequest Strategy, int[] Prompt);

    /// <summary>Resolves options in the order typed options, AdditionalProperties keys, ChatOptions, client defaults; every mistake is an <see cref="ArgumentException"/> before any model runs.</summary>
    private Request Resolve(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var typed = options as DecodeAlignChatOptions;
        var extra = options?.AdditionalProperties;
        var name = typed?.Strategy ?? Text(extra, ChatOptionKeys.Strategy) ?? Options.DefaultStrategy;
        var entry = StrategyCatalog.Get(name);
        var values = new Dictionary<string, string>();
        if (extra is not null)
            foreach (var (key, value) in extra)
            {
                if (!key.StartsWith(ChatOptionKeys.Prefix, StringComparison.Ordinal) || key is ChatOptionKeys.Strategy or ChatOptionKeys.Reward) continue;
                var option = key[ChatOptionKeys.Prefix.Length..];
                if (entry.Options.All(o => o.Name != option))
                    throw new ArgumentException($"{key}: strategy '{entry.Name}' has no option '{option}' (it reads {string.Join(", ", entry.Options.Select(o => o.Name))})");
                values[option] = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            }
        if (typed is not null)
            foreach (var (key, value) in typed.StrategyOptions) values[key] = value;
        if (options?.TopK is int topK && entry.Options.Any(o => o.Name == "top-k")) values.TryAdd("top-k", topK.ToString(CultureInfo.InvariantCulture));
        var checkedValues = new StrategyOptionValues(entry, values); // unknown names and unparsable values fail here
        var beta = entry.Options.Any(o => o.Name == "beta") ? checkedValues.Float("beta") : 1f;
        var reward = typed?.Reward ?? Text(extra, ChatOptionKeys.Reward);

        var generation = new GenerationOptions
        {
            MaxNewTokens = options?.MaxOutputTokens ?? Options.DefaultMaxOutputTokens,
            StopStrings = [.. Bundle.Template.StopStrings, .. options?.StopSequences ?? []],
            Sampling = new SamplingParameters
            {
                Temperature = options?.Temperature ?? 1f,
                TopP = options?.TopP ?? 1f,
                Seed = options?.Seed is long seed ? unchecked((ulong)seed) : 0UL,
            },
        };
        generation.Validate();
        if (entry.Samples && !(generation.Sampling.Temperature > 0))
            throw new ArgumentException($"Temperature must be > 0 for strategy '{entry.Name}' (got {generation.Sampling.Temperature}); use strategy 'greedy' for temperature 0.");
        var prompt = Bundle.Lm.EncodePrompt(Bundle.Template.Render(messages));
        var request = new StrategyRequest
        {
            Model = Bundle.Lm,
            Kernels = null!, // set per run
            Generation = generation,
            Potentials = Bundle.Potentials(reward, beta),
            Options = values,
            ExplicitTemperature = options?.Temperature,
        };
        return new Request(entry, request, prompt);
    }

    private static string? Text(AdditionalPropertiesDictionary? extra, string key) =>
        extra is not null && extra.TryGetValue(key, out var value) && value is not null ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return new ChatClientMetadata("DecodeAlign", null, Options.ModelId);
        if (serviceType == typeof(ModelBundle)) return Bundle;
        if (serviceType == typeof(IReadOnlyList<StrategyEntry>)) return StrategyCatalog.All;
        if (serviceType == typeof(DecodeAlignChatClientOptions)) return Options;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsBundle) Bundle.Dispose();
    }
}
