using DecodeAlign.Decoding;
using DecodeAlign.Kernels;
using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.PublicApi.Tests;

/// <summary>A strategy defined outside the library, on the built-in arith models, built through a catalog entry.</summary>
public sealed class UserStrategyTests : IDisposable
{
    private static readonly string[] Questions =
    [
        "Q: Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?\nA:",
        "Q: Ivy has 49 coins. She finds 40 more coins. Then she gets 30 coins from Zoe. How many coins does Ivy have now?\nA:",
        "Q: Lucy has 3 coins. She buys 2 more coins. How many coins does Lucy have now?\nA:",
    ];

    private readonly LanguageModel _lm;
    private readonly IRewardModel _verifier;
    private readonly ITokenKernels _kernels = KernelBackends.Create(KernelBackendKind.Cpu);

    public UserStrategyTests()
    {
        var root = Builtin();
        _lm = LanguageModel.Load(Path.Combine(root, "lm"));
        _verifier = ModelLoader.LoadRewardModel(Path.Combine(root, "verifier"));
    }

    /// <summary>The repository's models/arith, found upwards from the test binaries.</summary>
    private static string Builtin()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "models", "arith", "lm"))) return Path.Combine(dir.FullName, "models", "arith");
        throw new DirectoryNotFoundException("models/arith (the built-in models) not found above " + AppContext.BaseDirectory);
    }

    private StrategyRequest Request(Dictionary<string, string> options, ulong seed = 3) => new()
    {
        Model = _lm,
        Kernels = _kernels,
        Generation = new GenerationOptions { MaxNewTokens = 48, Sampling = new SamplingParameters { Seed = seed } },
        Potentials = new Potentials { Reward = _verifier },
        Options = options,
    };

    [Fact]
    public void The_user_strategy_returns_the_first_sample_over_the_threshold_or_the_best()
    {
        var strategy = RejectionSamplingStrategy.Entry.Create(Request(new() { ["n"] = "6", ["threshold"] = "1.0" }));
        var prompts = Questions.Select(_lm.EncodePrompt).ToArray();
        var results = strategy.Decode(prompts);
        Assert.Equal(Questions.Length, results.Count);
        foreach (var r in results)
        {
            var candidates = r.Trace.Candidates;
            Assert.Equal(6, candidates.Count);
            var first = candidates.Select((c, i) => (c, i)).FirstOrDefault(x => x.c.Reward >= 1.0);
            var expected = first.c ?? candidates.MaxBy(c => c.Reward)!;
            Assert.Same(expected, candidates.Single(c => c.Accepted == true));
            Assert.Equal(expected.Text, r.Text);
            Assert.True(r.Trace.Compute.RewardCalls == 1 && r.Trace.Compute.LmTokens > 0);
        }
    }

    [Fact]
    public void Its_first_sample_is_what_the_built_in_sampler_draws_and_the_seed_fixes_the_output()
    {
        var prompts = Questions.Select(_lm.EncodePrompt).ToArray();
        var mine = RejectionSamplingStrategy.Entry.Create(Request(new() { ["n"] = "4" })).Decode(prompts);
        var again = RejectionSamplingStrategy.Entry.Create(Request(new() { ["n"] = "4" })).Decode(prompts);
        Assert.Equal(mine.Select(r => r.Text), again.Select(r => r.Text));
        var sampled = StrategyCatalog.Get("sample").Create(Request([])).Decode([prompts[0]]);
        Assert.Equal(sampled[0].Text, mine[0].Trace.Candidates[0].Text);
    }

    [Fact]
    public void The_entry_checks_option_names_and_values()
    {
        Assert.Throws<ArgumentException>(() => RejectionSamplingStrategy.Entry.Create(Request(new() { ["tries"] = "4" })));
        Assert.Throws<ArgumentException>(() => RejectionSamplingStrategy.Entry.Create(Request(new() { ["n"] = "four" })));
    }

    public void Dispose()
    {
        _verifier.Dispose();
        _lm.Dispose();
        _kernels.Dispose();
    }
}
