using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Tests.Toy;

/// <summary>A causal LM whose next-token logits are an explicit function of the prefix.</summary>
internal sealed class ToyLm(DecoderInfo info, Func<IReadOnlyList<int>, float[]> logits) : ICausalLm
{
    public DecoderInfo Info => info;

    public IDecoderSession CreateSession() => new FunctionDecoderSession(info, logits);

    public void Dispose() { }
}

/// <summary>A reward model / prefix scorer whose score is an explicit function of the tokens.</summary>
internal sealed class ToyScorer(DecoderInfo info, Func<IReadOnlyList<int>, float> score, Func<RewardQuery, float>? textScore = null) : IRewardModel, IPrefixScorer
{
    public string Source => info.Source;

    public DecoderInfo Info => info;

    public IDecoderSession CreateSession() => new FunctionDecoderSession(info, t => [score(t)]);

    public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default) =>
        queries.Select(q => textScore?.Invoke(q) ?? throw new InvalidOperationException("no text scorer")).ToArray();

    public void Dispose() { }
}

/// <summary>A value model with a vocabulary-wide head given as a function of the prefix.</summary>
internal sealed class ToyValueModel(DecoderInfo info, Func<IReadOnlyList<int>, float[]> values) : IValueModel
{
    public DecoderInfo Info => info;

    public IDecoderSession CreateSession() => new FunctionDecoderSession(info, values);

    public void Dispose() { }
}

/// <summary>Builders for toy model infos.</summary>
internal static class ToyInfo
{
    public static DecoderInfo Create(DecoderOutputKind kind, int vocab, int contextLength, int eos, string name = "toy") =>
        new(name, kind, vocab, kind == DecoderOutputKind.Scores ? 1 : vocab, contextLength, 0, [eos], null);
}
