using DecodeAlign.Decoding.Engine;
using DecodeAlign.Decoding.Tests.Toy;
using DecodeAlign.Kernels;

namespace DecodeAlign.Decoding.Tests;

/// <summary>The generator's subset-of-rows and response-prefix options (added for QAlign's suffix proposals).</summary>
public sealed class RolloutEngineResumeTests
{
    private static GenerationOptions Options(int maxNew, IReadOnlyList<string>? stops = null, float repetition = 1f) => new()
    {
        MaxNewTokens = maxNew,
        StopStrings = stops ?? [],
        Sampling = new SamplingParameters { Seed = 21, RepetitionPenalty = repetition },
    };

    [Theory]
    [InlineData(8, null, 1f)]
    [InlineData(8, null, 1.3f)] // penalties see the prefix as generated history
    [InlineData(3, null, 1f)]   // a prefix of max length is already finished
    [InlineData(8, "b c", 1f)]  // stop strings see the prefix text
    public void Resuming_from_any_prefix_of_a_response_reproduces_it(int maxNew, string? stop, float repetition)
    {
        using var lm = ToyWorld.CreateLm(context: 32);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var generator = new RolloutEngine(lm, kernels, Options(maxNew, stop is null ? null : [stop], repetition));
        for (var id = 0; id < 40; id++)
        {
            using var full = lm.Lm.CreateSession();
            full.AddRow([ToyWorld.Bos]);
            var y = generator.Generate(full, [new SampleKey(id, 0)], default)[0];
            for (var i = 0; i <= y.Tokens.Count; i++)
            {
                using var session = lm.Lm.CreateSession();
                session.AddRow([ToyWorld.Bos, .. y.Tokens.Take(i)]);
                if (i == y.Tokens.Count && y.Finish != FinishReason.EndOfSequence && session.GetTokens(0).Length == 1 + i)
                {
                    // The whole response of one that stopped without EOS: nothing may be sampled.
                    var calls = session.Telemetry.ModelCalls;
                    var again = generator.Generate(session, [new SampleKey(id, 0)], default, responseStarts: [1])[0];
                    Assert.Equal(calls, session.Telemetry.ModelCalls);
                    Assert.Equal(y.Tokens, again.Tokens);
                    Assert.Equal((y.Text, y.Finish), (again.Text, again.Finish));
                    continue;
                }
                var resumed = generator.Generate(session, [new SampleKey(id, 0)], default, responseStarts: [1])[0];
                Assert.Equal(y.Tokens, resumed.Tokens);
                Assert.Equal(y.Text, resumed.Text);
                Assert.Equal(y.Finish, resumed.Finish);
            }
        }
    }

    [Fact]
    public void Generating_a_subset_of_rows_leaves_the_others_and_keeps_finished_rows()
    {
        using var lm = ToyWorld.CreateLm(context: 32);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var generator = new RolloutEngine(lm, kernels, Options(6));
        using var session = lm.Lm.CreateSession();
        session.AddRow([ToyWorld.Bos, ToyWorld.A]);
        session.AddRow([ToyWorld.Bos]);
        session.AddRow([ToyWorld.Bos, ToyWorld.C]);
        var generated = generator.Generate(session, [new SampleKey(5, 0), new SampleKey(6, 0)], default, rows: [2, 1]);

        Assert.Equal(3, session.RowCount);
        Assert.Equal([ToyWorld.Bos, ToyWorld.A], session.GetTokens(0).ToArray());
        // Same draws as generating those rows alone with the default behaviour.
        foreach (var (row, key, result) in new[] { (new[] { ToyWorld.Bos, ToyWorld.C }, 5, generated[0]), ([ToyWorld.Bos], 6, generated[1]) })
        {
            using var alone = lm.Lm.CreateSession();
            alone.AddRow(row);
            var expected = generator.Generate(alone, [new SampleKey(key, 0)], default)[0];
            Assert.Equal(expected.Tokens, result.Tokens);
            Assert.Equal(expected.Finish, result.Finish);
        }
        // Finished rows stay, holding every sampled token but the one that ended them.
        Assert.Equal([ToyWorld.Bos, ToyWorld.C, .. generated[0].Tokens.SkipLast(generated[0].Finish == FinishReason.EndOfSequence ? 0 : 1)], session.GetTokens(2).ToArray());
        Assert.Equal([ToyWorld.Bos, .. generated[1].Tokens.SkipLast(generated[1].Finish == FinishReason.EndOfSequence ? 0 : 1)], session.GetTokens(1).ToArray());
    }
}
