using DecodeAlign.Models.Rewards;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// A reward model exported as a KV-cached decoder with one score per position (<c>scores</c> [batch, seq]): the score
/// at the last token of prompt + response is the reward, and the same model scores prefixes and candidate next
/// tokens for guided decoding, sharing the prefix cache.
/// </summary>
public sealed class OnnxDecoderRewardModel : IRewardModel, IPrefixScorer
{
    private readonly OnnxDecoder _decoder;
    private readonly RewardModelOptions _options;

    /// <summary>Graph output with, at each position, the score of the sequence extended by every possible next token.</summary>
    public const string CandidateOutput = "candidate_scores";

    private readonly DecoderLayout? _candidateLayout;

    private OnnxDecoderRewardModel(OnnxDecoder decoder, ITokenizer tokenizer, RewardModelOptions options)
    {
        _decoder = decoder;
        Tokenizer = tokenizer;
        _options = options;
        Info = decoder.Layout.ToInfo();
        _candidateLayout = decoder.Layout.WithVocabularyOutput(decoder.Session, CandidateOutput);
    }

    /// <summary>Whether the graph has the vocabulary-wide <see cref="CandidateOutput"/> head.</summary>
    public bool HasCandidateHead => _candidateLayout is not null;

    /// <inheritdoc />
    public IDecoderSession? CreateCandidateSession() => _candidateLayout is null ? null : new DecoderSession(_decoder, _candidateLayout);

    /// <summary>Loads a folder holding a scoring decoder (model.onnx with a <c>scores</c> output) and its tokenizer.</summary>
    public static OnnxDecoderRewardModel Load(string folder, RewardModelOptions? options = null)
    {
        options ??= new RewardModelOptions();
        options.Validate();
        var decoder = OnnxDecoder.Load(folder, options.Onnx);
        try
        {
            if (decoder.Layout.Head != DecoderOutputKind.Scores)
                throw new ModelLoadException(decoder.Layout.Source, $"has a '{decoder.Layout.Output}' output; a decoder reward model needs 'scores' [batch, seq].");
            var tokenizer = TextTokenizer.Load(Path.GetDirectoryName(decoder.Layout.Source)!);
            if (tokenizer.VocabSize > decoder.Layout.VocabSize)
                throw new VocabularyMismatchException(tokenizer.Source, tokenizer.VocabSize, decoder.Layout.Source, decoder.Layout.VocabSize);
            return new OnnxDecoderRewardModel(decoder, tokenizer, options);
        }
        catch
        {
            decoder.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string Source => _decoder.Layout.Source;

    /// <inheritdoc />
    public DecoderInfo Info { get; }

    /// <summary>The KV-cache layout of the graph (layers, KV heads, head size, fp16 or fp32).</summary>
    public KvCacheShape KvShape => _decoder.Layout.KvShape;

    /// <summary>The tokenizer the reward model reads text with.</summary>
    public ITokenizer Tokenizer { get; }

    /// <inheritdoc />
    public IDecoderSession CreateSession() => new DecoderSession(_decoder);

    /// <inheritdoc />
    public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default) =>
        ScoreTokens(queries.Select(Encode).ToArray(), cancellationToken);

    /// <summary>The token sequence the model scores for a query (template, BOS and optional EOS applied).</summary>
    public int[] Encode(RewardQuery query)
    {
        var ids = Tokenizer.Encode(_options.Format(query), addSpecialTokens: true);
        if (_options.AppendEos && Tokenizer.Special.Eos is int eos) ids = [.. ids, eos];
        if (ids.Length == 0) throw new ModelException($"{Source}: the reward input for an empty prompt and response has no tokens.");
        if (ids.Length > Info.ContextLength) throw new ContextLengthExceededException(ids.Length, Info.ContextLength, "reward model input");
        return ids;
    }

    /// <summary>
    /// Scores whole token sequences (already in this model's token space): the score at each one's last token. Within
    /// a batch, sequences that share a leading run of tokens (one prompt's candidates) run it once: one call for the
    /// shared runs, whose cache is forked to every sequence that has it, and one for the rest of each sequence.
    /// </summary>
    public float[] ScoreTokens(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        var scores = new float[sequences.Count];
        for (var start = 0; start < sequences.Count; start += _options.BatchSize)
        {
            using var session = CreateSession();
            var n = Math.Min(_options.BatchSize, sequences.Count - start);
            var batch = sequences.Skip(start).Take(n).ToArray();
            var groups = SharedPrefixPlan.Plan(batch);
            foreach (var g in groups) session.AddRow(batch[g.Members[0]].AsSpan(0, g.Prefix));
            var outputs = session.Forward(cancellationToken);
            if (groups.Count < n)
            {
                session.Select(groups.SelectMany((g, row) => g.Members.Select(_ => row)).ToArray());
                var members = groups.SelectMany(g => g.Members.Select(m => (Member: m, g.Prefix))).ToArray();
                for (var r = 0; r < members.Length; r++) session.Append(r, batch[members[r].Member].AsSpan(members[r].Prefix));
                outputs = session.Forward(cancellationToken);
                for (var r = 0; r < members.Length; r++) scores[start + members[r].Member] = outputs.Row(r)[0];
                continue;
            }
            for (var r = 0; r < groups.Count; r++) scores[start + groups[r].Members[0]] = outputs.Row(r)[0];
        }
        return scores;
    }

    /// <inheritdoc />
    public void Dispose() => _decoder.Dispose();
}
