using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// A weighted sum h = Σ w_i·R_i of learned and programmatic rewards, usable wherever one reward is: as a whole-response
/// reward (best-of-N, votes, QAlign, SMC final weights) and as a prefix scorer in the LM's token space (ARGS,
/// blockwise decoding, SMC twists, early pruning). Learned terms must be <see cref="IPrefixScorer"/>s for the latter
/// (<see cref="OnnxDecoderRewardModel"/> is); their sessions run in lock-step inside the composite's, and
/// <see cref="TextReward"/> terms score each row's decoded response text with their prefix form. A row's prompt is
/// what it held when it was added; the rest is its response. Cheap to build: make one per request to change weights.
/// Disposing it leaves the terms alone (several composites may share them).
/// </summary>
public sealed class CompositeReward : IRewardModel, IPrefixScorer
{
    private readonly WeightedReward[] _terms;
    private readonly List<(IPrefixScorer Scorer, float Weight)> _learned = [];
    private readonly List<(TextReward Reward, float Weight)> _programmatic = [];
    private readonly LanguageModel? _tokenSpace;
    private readonly string? _prefixError;

    /// <summary>
    /// Combines <paramref name="terms"/>. <paramref name="tokenSpace"/> is the LM whose rows the prefix scorer sees: it
    /// decodes them for programmatic terms and sets the shape when there is no learned term. Throws
    /// <see cref="ArgumentException"/> for no terms or a weight that is NaN or infinite.
    /// </summary>
    public CompositeReward(IEnumerable<WeightedReward> terms, LanguageModel? tokenSpace = null)
    {
        ArgumentNullException.ThrowIfNull(terms);
        _terms = [.. terms];
        if (_terms.Length == 0) throw new ArgumentException("A composite reward needs at least one term.", nameof(terms));
        foreach (var t in _terms)
            if (!float.IsFinite(t.Weight)) throw new ArgumentException($"reward '{t.Name}': the weight must be finite (got {t.Weight}).", nameof(terms));
        _tokenSpace = tokenSpace;
        Source = string.Join(",", _terms.Select(t => t.ToString()));
        foreach (var t in _terms.Where(t => t.Weight != 0))
        {
            if (t.Reward is TextReward text)
            {
                if (text.ScoresPrefixes) _programmatic.Add((text, t.Weight));
            }
            else if (t.Reward is IPrefixScorer scorer)
            {
                if (scorer.Info.Output != DecoderOutputKind.Scores || scorer.Info.OutputWidth != 1)
                    _prefixError ??= $"reward '{t.Name}' has a '{scorer.Info.Output}' head of width {scorer.Info.OutputWidth}; a prefix scorer outputs one score per position";
                _learned.Add((scorer, t.Weight));
            }
            else _prefixError ??= $"reward '{t.Name}' scores whole responses only, so the composite cannot score prefixes";
        }
        var vocab = _learned.Select(l => l.Scorer.Info.VocabSize).Concat(tokenSpace is null ? [] : [tokenSpace.Lm.Info.VocabSize]).Distinct().ToArray();
        if (vocab.Length > 1)
            _prefixError ??= $"the rewards and the LM have different vocabularies ({string.Join(", ", vocab)} tokens), so their prefix scores cannot be added";
        if (tokenSpace is null && (_programmatic.Count > 0 || _learned.Count == 0))
            _prefixError ??= "scoring prefixes with programmatic rewards needs the LM (tokenSpace) whose tokens to decode";
        Info = BuildInfo();
    }

    /// <summary>The terms, weights included, in order.</summary>
    public IReadOnlyList<WeightedReward> Terms => _terms;

    /// <summary>The terms as <c>name=weight</c>, comma-separated.</summary>
    public string Source { get; }

    /// <summary>Whether the composite can serve as <see cref="Potentials.PrefixScorer"/> (every weighted term scores prefixes in one token space).</summary>
    public bool ScoresPrefixes => _prefixError is null;

    /// <summary>Shape of the prefix scorer: the learned terms' (the LM's when there is none), one score per position.</summary>
    public DecoderInfo Info { get; }

    /// <summary>Σ w_i·R_i(prompt, response) per query; each term scores the whole batch in one call (weight-0 terms are skipped).</summary>
    public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default)
    {
        var total = new float[queries.Count];
        foreach (var t in _terms)
        {
            if (t.Weight == 0) continue;
            var scores = t.Reward.Score(queries, cancellationToken);
            if (scores.Length != total.Length) throw new InvalidOperationException($"reward '{t.Name}' returned {scores.Length} scores for {total.Length} queries.");
            for (var i = 0; i < total.Length; i++) total[i] += t.Weight * scores[i];
        }
        return total;
    }

    /// <summary>A session whose output per row is Σ w_i·R_i(row); throws <see cref="NotSupportedException"/> unless <see cref="ScoresPrefixes"/>.</summary>
    public IDecoderSession CreateSession() => Create(wide: false)!;

    /// <summary>
    /// A session whose output per row is, for every token v, Σ w_i·R_i(row + v), when every learned term has a
    /// vocabulary-wide candidate head (null otherwise, and ARGS scores k rows instead). Programmatic terms are scored for
    /// the whole vocabulary at each row's every step: V texts (the row's text plus each token's cached text) per term,
    /// which the built-in rewards read only the end of (length with a tokenizer re-encodes near its limit, a regex
    /// keyword or a function reward reads the whole text). Throws <see cref="NotSupportedException"/> unless <see cref="ScoresPrefixes"/>.
    /// </summary>
    public IDecoderSession? CreateCandidateSession() => Create(wide: true);

    private IDecoderSession? Create(bool wide)
    {
        if (_prefixError is not null) throw new NotSupportedException($"{Source}: {_prefixError}.");
        var parts = new List<IDecoderSession>();
        try
        {
            foreach (var (scorer, _) in _learned)
            {
                var session = wide ? scorer.CreateCandidateSession() : scorer.CreateSession();
                if (session is null)
                {
                    foreach (var p in parts) p.Dispose();
                    return null;
                }
                parts.Add(session);
            }
            var texts = _programmatic.Count == 0 ? null : TokenTexts.For(_tokenSpace!.Tokenizer, Info.VocabSize);
            var info = wide ? Info with { Output = DecoderOutputKind.Values, OutputWidth = Info.VocabSize } : Info;
            return new CompositeRewardSession(info, parts, [.. _learned.Select(l => l.Weight)], [.. _programmatic], texts);
        }
        catch
        {
            foreach (var p in parts) p.Dispose();
            throw;
        }
    }

    private DecoderInfo BuildInfo()
    {
        if (_learned.Count > 0)
            return _learned[0].Scorer.Info with
            {
                Source = Source,
                ContextLength = _learned.Min(l => l.Scorer.Info.ContextLength),
                Capabilities = _learned.Select(l => l.Scorer.Info.Capabilities).Aggregate((a, b) => a.Intersect(b)),
            };
        if (_tokenSpace is not null)
            return _tokenSpace.Lm.Info with
            {
                Source = Source,
                Output = DecoderOutputKind.Scores,
                OutputWidth = 1,
                Capabilities = DecoderCapabilities.Full,
            };
        return new DecoderInfo(Source, DecoderOutputKind.Scores, 0, 1, 0, null, [], null);
    }

    /// <summary>Does nothing: the terms belong to the caller.</summary>
    public void Dispose() { }
}
