using DecodeAlign.Models;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Tests.Guided;

/// <summary>
/// Presents a causal LM as a prefix scorer (score = the logit of one probe token) so the guided strategies run on
/// real ONNX sessions (KV cache, forks, candidate calls) where no reward-model fixture is available.
/// </summary>
internal sealed class ProbeLogitScorer(ICausalLm lm, int probe) : IPrefixScorer
{
    public DecoderInfo Info { get; } = lm.Info with { Source = lm.Info.Source + "#probe", Output = DecoderOutputKind.Scores, OutputWidth = 1 };

    public IDecoderSession CreateSession() => new ProjectedSession(lm.CreateSession(), Info, probe);

    public void Dispose() { }
}

/// <summary>Presents a causal LM as a value model with a vocabulary-wide head: V(s, a) = logit(s, a).</summary>
internal sealed class LogitValueModel(ICausalLm lm) : IValueModel
{
    public DecoderInfo Info { get; } = lm.Info with { Source = lm.Info.Source + "#values", Output = DecoderOutputKind.Values };

    public IDecoderSession CreateSession() => new ProjectedSession(lm.CreateSession(), Info, null);

    public void Dispose() { }
}

/// <summary>Forwards every call to an LM session, keeping only the probe token's logit as the output when one is given.</summary>
internal sealed class ProjectedSession(IDecoderSession inner, DecoderInfo info, int? probe) : IDecoderSession
{
    public DecoderInfo Info => info;

    public int RowCount => inner.RowCount;

    public SessionTelemetry Telemetry => inner.Telemetry;

    public ReadOnlySpan<int> GetTokens(int row) => inner.GetTokens(row);

    public int AddRow(ReadOnlySpan<int> tokens) => inner.AddRow(tokens);

    public void Append(int row, ReadOnlySpan<int> tokens) => inner.Append(row, tokens);

    public void AppendToAll(ReadOnlySpan<int> tokenPerRow) => inner.AppendToAll(tokenPerRow);

    public RowOutputs Forward(CancellationToken cancellationToken = default) => Project(inner.Forward(cancellationToken));

    public RowOutputs ForwardCandidates(ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, CancellationToken cancellationToken = default) =>
        Project(inner.ForwardCandidates(rows, candidates, cancellationToken));

    public void Select(ReadOnlySpan<int> sourceRows) => inner.Select(sourceRows);

    public void Truncate(int row, int length) => inner.Truncate(row, length);

    public void Dispose() => inner.Dispose();

    private RowOutputs Project(RowOutputs outputs)
    {
        if (probe is not int p) return outputs;
        var scores = new float[outputs.Rows];
        for (var r = 0; r < outputs.Rows; r++) scores[r] = outputs.Row(r)[p];
        return new RowOutputs(scores, outputs.Rows, 1);
    }
}
