using System.Text;
using DecodeAlign.Decoding.Strategies;
using DecodeAlign.Kernels;
using DecodeAlign.Models.Rewards;
using static DecodeAlign.Decoding.Tests.Toy.ToyWorld;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>Streamed text of ARGS, VAS and blockwise decoding adds up to each response's final text, stop strings cut.</summary>
public sealed class GuidedStreamingTests
{
    [Theory]
    [InlineData("args")]
    [InlineData("vas")]
    [InlineData("blockwise")]
    public void Streamed_text_adds_up_to_the_final_text(string name)
    {
        using var lm = CreateLm(context: 64);
        using var kernels = KernelBackends.Create(KernelBackendKind.Cpu);
        var generation = new GenerationOptions { MaxNewTokens = 9, StopStrings = ["b c"], Sampling = new SamplingParameters { Seed = 2 } };
        var streamed = Enumerable.Range(0, 30).Select(_ => new StringBuilder()).ToArray();
        void Collect(int row, string text) => streamed[row].Append(text);
        IDecodingStrategy strategy = name switch
        {
            "args" => new ArgsStrategy(lm, kernels, generation, new Potentials { PrefixScorer = GuidedToy.Scorer(64) }, new ArgsOptions { TopK = 3, Temperature = 1f }) { OnText = Collect },
            "vas" => new VasStrategy(lm, kernels, generation, new Potentials { Values = [new WeightedValueModel(GuidedToy.Value(GuidedToy.Values1, "v1"), 1f)] }, new VasOptions { TopK = 3 }) { OnText = Collect },
            _ => new ControlledDecodingStrategy(lm, kernels, generation, new Potentials { PrefixScorer = GuidedToy.Scorer(64) }, new ControlledDecodingOptions { Candidates = 2, BlockSize = 2 }) { OnText = Collect },
        };
        var results = strategy.Decode(Enumerable.Repeat(new[] { Bos }, 30).ToArray());
        Assert.Contains(results, r => r.Finish == FinishReason.StopString);
        for (var i = 0; i < results.Count; i++)
        {
            Assert.Equal(results[i].Text, streamed[i].ToString());
            Assert.DoesNotContain("b c", results[i].Text);
        }
    }
}
