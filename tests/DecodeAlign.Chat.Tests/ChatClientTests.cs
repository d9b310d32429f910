using DecodeAlign.Chat;
using DecodeAlign.Decoding;
using Microsoft.Extensions.AI;

namespace DecodeAlign.Chat.Tests;

/// <summary>The IChatClient on the built-in arith models: every catalog strategy round-trips, options map, concurrency and cancellation behave.</summary>
public sealed class ChatClientTests(BuiltinBundle fixture) : IClassFixture<BuiltinBundle>
{
    private const string Question = "Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?";

    private DecodeAlignChatClient Client() => new(fixture.Bundle);

    private static DecodeAlignChatOptions Options(string strategy, long seed = 7, params (string Key, string Value)[] options)
    {
        var o = new DecodeAlignChatOptions { Strategy = strategy, Seed = seed, MaxOutputTokens = 48 };
        foreach (var (k, v) in options) o.StrategyOptions[k] = v;
        return o;
    }

    /// <summary>Small budgets so that every strategy runs in well under a second.</summary>
    private static (string, string)[] Small(StrategyEntry e) => e.Name switch
    {
        "bon" or "mv" or "wmv" or "qalign" or "smc" => [("n", "4")],
        "deal" => [("lookahead", "4")],
        "tqstar" => [("top-k", "4"), ("rollout-length", "8")],
        _ => [],
    };

    public static TheoryData<string> Strategies => new(StrategyCatalog.All.Select(e => e.Name));

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task Every_catalog_strategy_answers_through_the_chat_client(string name)
    {
        using var client = Client();
        var entry = StrategyCatalog.Get(name);
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], Options(name, options: Small(entry)));
        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        Assert.Equal(name, response.AdditionalProperties?[ChatOptionKeys.StrategyUsed]);
        Assert.NotNull(response.FinishReason);
        var usage = response.Usage!;
        Assert.True(usage.InputTokenCount > 10 && usage.OutputTokenCount > 0);
        Assert.True(usage.AdditionalCounts![ChatOptionKeys.LmTokens] >= usage.OutputTokenCount);
        if (entry.Requires.Contains(PotentialRole.Reward) || entry.Requires.Contains(PotentialRole.PrefixScorer) || entry.Requires.Contains(PotentialRole.Value))
            Assert.True(usage.AdditionalCounts[ChatOptionKeys.ScorerTokens] > 0, $"{name} ran no scorer");
        if (name == "qalign") Assert.True(usage.AdditionalCounts.ContainsKey(ChatOptionKeys.AcceptancePermille));
    }

    [Fact]
    public async Task The_chat_client_returns_what_the_strategy_returns_for_the_rendered_prompt()
    {
        using var client = Client();
        var chat = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], Options("bon", 11, ("n", "4")));
        var prompt = fixture.Bundle.Lm.EncodePrompt($"Q: {Question}\nA:");
        using var kernels = Kernels.KernelBackends.Create(Kernels.KernelBackendKind.Cpu);
        var direct = StrategyCatalog.Get("bon").Create(new StrategyRequest
        {
            Model = fixture.Bundle.Lm,
            Kernels = kernels,
            Generation = new GenerationOptions { MaxNewTokens = 48, StopStrings = ["\nQ:"], Sampling = new Kernels.SamplingParameters { Seed = 11 } },
            Potentials = fixture.Bundle.Potentials(),
            Options = new Dictionary<string, string> { ["n"] = "4" },
        }).Decode([prompt])[0];
        Assert.Equal(direct.Text, chat.Text);
        Assert.Equal(direct.Reward, (double?)chat.AdditionalProperties![ChatOptionKeys.ResponseReward]);
    }

    [Fact]
    public async Task Additional_properties_and_chat_options_map_to_the_strategy()
    {
        using var client = Client();
        var viaKeys = new ChatOptions
        {
            Seed = 3,
            MaxOutputTokens = 40,
            Temperature = 0.7f,
            AdditionalProperties = new() { [ChatOptionKeys.Strategy] = "wmv", ["decodealign.n"] = 5, ["decodealign.beta"] = 0.5, [ChatOptionKeys.Reward] = "verifier=1,calc=0.5" },
        };
        var typed = new DecodeAlignChatOptions { Strategy = "wmv", Seed = 3, MaxOutputTokens = 40, Temperature = 0.7f, Reward = "verifier=1,calc=0.5" };
        typed.StrategyOptions["n"] = "5";
        typed.StrategyOptions["beta"] = "0.5";
        var a = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], viaKeys);
        var b = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], typed);
        Assert.Equal(a.Text, b.Text);
        Assert.Equal("wmv", a.AdditionalProperties![ChatOptionKeys.StrategyUsed]);
        // A different seed or reward changes the request.
        var other = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], new DecodeAlignChatOptions { Strategy = "sample", Seed = 4, MaxOutputTokens = 3 });
        Assert.True(other.Usage!.OutputTokenCount <= 3);
        Assert.Equal(ChatFinishReason.Length, other.FinishReason);
    }

    [Fact]
    public async Task Bad_requests_fail_before_any_model_runs_with_the_option_named()
    {
        using var client = Client();
        ChatMessage[] q = [new(ChatRole.User, Question)];
        var e1 = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetResponseAsync(q, new ChatOptions { AdditionalProperties = new() { [ChatOptionKeys.Strategy] = "nope" } }));
        Assert.Contains("nope", e1.Message);
        var e2 = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetResponseAsync(q, new ChatOptions { AdditionalProperties = new() { [ChatOptionKeys.Strategy] = "sample", ["decodealign.n"] = 4 } }));
        Assert.Contains("decodealign.n", e2.Message);
        var e3 = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetResponseAsync(q, Options("bon", options: ("n", "many"))));
        Assert.Contains("n must be", e3.Message);
        var e4 = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetResponseAsync(q, new DecodeAlignChatOptions { Strategy = "bon", Reward = "nonsense" }));
        Assert.Contains("nonsense", e4.Message);
    }

    [Fact]
    public async Task Sixteen_concurrent_requests_give_exactly_the_outputs_of_the_same_requests_one_by_one()
    {
        using var client = Client();
        string[] strategies = ["sample", "bon", "args", "qalign", "smc", "vas", "greedy", "wmv"];
        var requests = Enumerable.Range(0, 16).Select(i => (Question: $"Ivy has {10 + i} coins. She finds {i + 3} more coins. How many coins does Ivy have now?",
            Options: Options(strategies[i % strategies.Length], seed: 100 + i, options: strategies[i % strategies.Length] is "bon" or "qalign" or "smc" or "wmv" ? [("n", "4")] : []))).ToArray();
        var sequential = new List<string>();
        foreach (var r in requests) sequential.Add((await client.GetResponseAsync([new ChatMessage(ChatRole.User, r.Question)], r.Options)).Text);
        var concurrent = await Task.WhenAll(requests.Select(r => Task.Run(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, r.Question)], r.Options))));
        Assert.Equal(sequential, concurrent.Select(c => c.Text));
    }

    [Fact]
    public async Task Streaming_yields_text_as_tokens_are_accepted_and_ends_with_usage()
    {
        using var client = Client();
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, Question)], Options("sample", 5))) updates.Add(u);
        var texts = updates.Where(u => u.Text.Length > 0).ToList();
        Assert.True(texts.Count > 5, $"only {texts.Count} text updates");
        Assert.Contains(updates[^1].Contents, c => c is UsageContent);
        Assert.Equal(string.Concat(texts.Select(t => t.Text)), updates.ToChatResponse().Text);

        // A strategy that chooses at the end reports progress first, then streams the chosen response.
        var bon = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, Question)], Options("bon", 5, ("n", "4")))) bon.Add(u);
        Assert.True(bon[0].AdditionalProperties!.ContainsKey(ChatOptionKeys.Progress));
        Assert.True(bon.Count(u => u.Text.Length > 0) > 1);
    }

    [Fact]
    public async Task Cancelling_a_stream_stops_it_within_a_step_and_the_client_stays_usable()
    {
        using var client = Client();
        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, Question)], new DecodeAlignChatOptions { Strategy = "qalign", Seed = 9, MaxOutputTokens = 64, StrategyOptions = { ["n"] = "100000" } }, cts.Token))
            {
                if (++received == 1) cts.CancelAfter(200);
            }
        });
        var after = await client.GetResponseAsync([new ChatMessage(ChatRole.User, Question)], Options("greedy"));
        Assert.False(string.IsNullOrWhiteSpace(after.Text));
    }

    [Fact]
    public void GetService_returns_the_bundle_the_catalog_and_metadata()
    {
        using var client = Client();
        Assert.Same(fixture.Bundle, client.GetService<ModelBundle>());
        Assert.Same(StrategyCatalog.All, client.GetService<IReadOnlyList<StrategyEntry>>());
        Assert.Equal("DecodeAlign", client.GetService<ChatClientMetadata>()!.ProviderName);
        Assert.Same(client, client.GetService<IChatClient>());
    }
}
