using System.Numerics.Tensors;
using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// The session of a <see cref="CompositeReward"/>: every row operation is forwarded to the learned terms' sessions,
/// so their rows (and KV caches) stay those of this session, and each output is Σ w_p·(part p's output) plus the
/// weighted prefix scores of the programmatic terms on the row's response text. Width 1 (a score per row) or, for a
/// candidate session, the vocabulary (the score of the row extended by each token). Not thread-safe.
/// </summary>
internal sealed class CompositeRewardSession : IDecoderSession
{
    private readonly IDecoderSession[] _parts;
    private readonly float[] _weights;
    private readonly (TextReward Reward, float Weight)[] _programmatic;
    private readonly TokenTexts? _texts;
    private readonly TelemetryTotals _telemetry;
    private readonly Dictionary<int[], string> _promptTexts = new(ReferenceEqualityComparer.Instance);
    private readonly int _width;
    private List<Row> _rows = [];
    private float[] _outputs = [];
    private bool _disposed;

    /// <summary>
    /// A row: its tokens, the prompt it was added with, its response text and programmatic scores (null until needed
    /// after a change), and the learned parts' outputs at its last two run lengths, so a rewind needs no re-run.
    /// </summary>
    private sealed class Row
    {
        public List<int> Tokens = [];
        public int[] Prompt = [];
        public string? Text;
        public float[]? Programmatic;
        public Saved? Current, Previous;

        public Row Clone() => new() { Tokens = [.. Tokens], Prompt = Prompt, Text = Text, Programmatic = Programmatic, Current = Current, Previous = Previous };

        public void Changed()
        {
            Text = null;
            Programmatic = null;
        }
    }

    /// <summary>What a row's outputs were at <paramref name="Length"/> tokens (never mutated once made).</summary>
    private sealed record Saved(int Length, float[] Learned, float[]? Programmatic, string? Text);

    public CompositeRewardSession(DecoderInfo info, IReadOnlyList<IDecoderSession> parts, float[] weights,
        (TextReward Reward, float Weight)[] programmatic, TokenTexts? texts)
    {
        Info = info;
        _parts = [.. parts];
        _weights = weights;
        _programmatic = programmatic;
        _texts = texts;
        _width = info.OutputWidth;
        _telemetry = new TelemetryTotals(_parts);
    }

    public DecoderInfo Info { get; }

    public int RowCount => _rows.Count;

    /// <summary>The learned parts' work, added up (programmatic terms run no model and count nothing).</summary>
    public SessionTelemetry Telemetry => _telemetry.Current;

    public ReadOnlySpan<int> GetTokens(int row) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(RowAt(row).Tokens);

    public int AddRow(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckContext(tokens.Length);
        foreach (var p in _parts)
            if (p.AddRow(tokens) != _rows.Count) throw new InvalidOperationException($"{p.Info.Source}: its session's rows are out of step with the composite's.");
        _rows.Add(new Row { Tokens = [.. tokens], Prompt = tokens.ToArray() });
        return _rows.Count - 1;
    }

    public void Append(int row, ReadOnlySpan<int> tokens)
    {
        var r = RowAt(row);
        CheckContext(r.Tokens.Count + tokens.Length);
        foreach (var p in _parts) p.Append(row, tokens);
        Extend(r, tokens);
    }

    public void AppendToAll(ReadOnlySpan<int> tokenPerRow)
    {
        if (tokenPerRow.Length != _rows.Count) throw new ArgumentException($"Expected one token per row ({_rows.Count}), got {tokenPerRow.Length}.", nameof(tokenPerRow));
        foreach (var r in _rows) CheckContext(r.Tokens.Count + 1);
        foreach (var p in _parts) p.AppendToAll(tokenPerRow);
        for (var i = 0; i < _rows.Count; i++) Extend(_rows[i], tokenPerRow.Slice(i, 1));
    }

    public RowOutputs Forward(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var outs = new RowOutputs[_parts.Length];
        for (var p = 0; p < _parts.Length; p++) outs[p] = _parts[p].Forward(cancellationToken);
        if (_outputs.Length < _rows.Count * _width) _outputs = new float[Math.Max(_rows.Count * _width, _outputs.Length * 2)];
        for (var i = 0; i < _rows.Count; i++)
        {
            var r = _rows[i];
            if (r.Tokens.Count == 0) throw new InvalidOperationException($"Row {i} holds no tokens; add at least one (e.g. BOS) before running the model.");
            var dst = _outputs.AsSpan(i * _width, _width);
            Combine(outs, i, dst);
            if (_programmatic.Length > 0)
            {
                r.Programmatic ??= ProgrammaticScores(r.Prompt, r.Tokens, RowText(r));
                TensorPrimitives.Add(dst, r.Programmatic, dst);
            }
            if (_parts.Length > 0 && r.Current?.Length != r.Tokens.Count)
            {
                var learned = new float[_parts.Length * _width];
                for (var p = 0; p < _parts.Length; p++) outs[p].Row(i).CopyTo(learned.AsSpan(p * _width));
                r.Previous = r.Current;
                r.Current = new Saved(r.Tokens.Count, learned, r.Programmatic, r.Text);
            }
        }
        return new RowOutputs(_outputs.AsMemory(0, _rows.Count * _width), _rows.Count, _width);
    }

    public RowOutputs ForwardCandidates(ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (rows.Length == 0) return new RowOutputs(Array.Empty<float>(), 0, _width);
        if (candidates.Length % rows.Length != 0)
            throw new ArgumentException($"Expected k candidates per row for {rows.Length} rows; got {candidates.Length}.", nameof(candidates));
        var k = candidates.Length / rows.Length;
        var outs = new RowOutputs[_parts.Length];
        for (var p = 0; p < _parts.Length; p++) outs[p] = _parts[p].ForwardCandidates(rows, candidates, cancellationToken);
        var result = new float[candidates.Length * _width];
        for (var i = 0; i < candidates.Length; i++) Combine(outs, i, result.AsSpan(i * _width, _width));
        if (_programmatic.Length == 0) return new RowOutputs(result, candidates.Length, _width);
        for (var i = 0; i < rows.Length; i++)
        {
            var r = RowAt(rows[i]);
            var ids = candidates.Slice(i * k, k).ToArray();
            if (_width == 1)
            {
                var scores = new float[k];
                ExtensionScores(r.Prompt, r.Tokens, RowText(r), ids, scores);
                TensorPrimitives.Add(result.AsSpan(i * k, k), scores, result.AsSpan(i * k, k));
                continue;
            }
            // A candidate session asked for candidates: each extended row's scores over the whole vocabulary.
            for (var j = 0; j < k; j++)
            {
                List<int> extended = [.. r.Tokens, ids[j]];
                var text = _texts!.ResponseText(r.Prompt, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(extended)[r.Prompt.Length..]);
                var dst = result.AsSpan((i * k + j) * _width, _width);
                TensorPrimitives.Add(dst, ProgrammaticScores(r.Prompt, extended, text), dst);
            }
        }
        return new RowOutputs(result, candidates.Length, _width);
    }

    public void Select(ReadOnlySpan<int> sourceRows)
    {
        foreach (var s in sourceRows) RowAt(s);
        foreach (var p in _parts) p.Select(sourceRows);
        var rows = new List<Row>(sourceRows.Length);
        foreach (var s in sourceRows) rows.Add(_rows[s].Clone());
        _rows = rows;
    }

    public void Truncate(int row, int length)
    {
        var r = RowAt(row);
        if ((uint)length > (uint)r.Tokens.Count)
            throw new ArgumentOutOfRangeException(nameof(length), $"Row {row} has {r.Tokens.Count} tokens; cannot truncate to {length}.");
        foreach (var p in _parts) p.Truncate(row, length);
        Cut(r, length);
    }

    /// <summary>
    /// The composite's output cannot be split back into its parts', so each part is rewound with its own output saved
    /// at that length by an earlier <see cref="Forward"/> (the last two lengths are kept), or truncated (and re-run) otherwise.
    /// </summary>
    public void Rewind(int row, int length, ReadOnlySpan<float> outputAtLength)
    {
        var r = RowAt(row);
        if ((uint)length > (uint)r.Tokens.Count)
            throw new ArgumentOutOfRangeException(nameof(length), $"Row {row} has {r.Tokens.Count} tokens; cannot rewind to {length}.");
        var saved = r.Current?.Length == length ? r.Current : r.Previous?.Length == length ? r.Previous : null;
        for (var p = 0; p < _parts.Length; p++)
        {
            if (saved is null) _parts[p].Truncate(row, length);
            else _parts[p].Rewind(row, length, saved.Learned.AsSpan(p * _width, _width));
        }
        Cut(r, length);
        if (saved is not null)
        {
            r.Text = saved.Text;
            r.Programmatic = saved.Programmatic;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in _parts) p.Dispose();
    }

    private Row RowAt(int row)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return (uint)row < (uint)_rows.Count ? _rows[row] : throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} does not exist (the session has {_rows.Count}).");
    }

    /// <summary>Learned parts hold their own context limit; without one the LM's is enforced here.</summary>
    private void CheckContext(int length)
    {
        if (_parts.Length == 0 && length > Info.ContextLength) throw new ContextLengthExceededException(length, Info.ContextLength);
    }

    private void Combine(RowOutputs[] outs, int row, Span<float> dst)
    {
        dst.Clear();
        for (var p = 0; p < _parts.Length; p++) TensorPrimitives.MultiplyAdd(outs[p].Row(row), _weights[p], dst, dst);
    }

    /// <summary>Appends tokens, keeping the response text when it provably grows by the tokens' cached pieces.</summary>
    private void Extend(Row r, ReadOnlySpan<int> tokens)
    {
        var text = r.Text;
        r.Tokens.AddRange(tokens);
        r.Changed();
        if (text is null || _texts is null) return;
        var prompt = PromptText(r.Prompt);
        foreach (var id in tokens)
        {
            if (!TokenTexts.CanAppend(prompt, text) || (uint)id >= (uint)_texts.Pieces.Length || _texts.Pieces[id] is not { } piece) return;
            text += piece;
        }
        r.Text = text;
    }

    private static void Cut(Row r, int length)
    {
        if (length == r.Tokens.Count) return;
        r.Tokens.RemoveRange(length, r.Tokens.Count - length);
        if (length < r.Prompt.Length) r.Prompt = r.Prompt[..length];
        r.Changed();
        if (r.Current?.Length > length) r.Current = null;
        if (r.Previous?.Length > length) r.Previous = null;
    }

    private string PromptText(int[] prompt)
    {
        if (!_promptTexts.TryGetValue(prompt, out var text)) _promptTexts[prompt] = text = _texts!.Tokenizer.Decode(prompt);
        return text;
    }

    private string RowText(Row r) =>
        r.Text ??= _texts!.ResponseText(r.Prompt, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(r.Tokens)[r.Prompt.Length..]);

    /// <summary>Σ w_j·R_j over the programmatic terms for a row: its prefix score, or (candidate session) that of the row extended by every token.</summary>
    private float[] ProgrammaticScores(int[] prompt, List<int> tokens, string text)
    {
        var scores = new float[_width];
        if (_width == 1)
        {
            var promptText = PromptText(prompt);
            foreach (var (reward, weight) in _programmatic) scores[0] += weight * reward.ScorePrefix(promptText, text);
            return scores;
        }
        ExtensionScores(prompt, tokens, text, null, scores);
        return scores;
    }

    /// <summary>
    /// Fills <paramref name="scores"/>[j] with Σ w·R(prompt, response + token j) for the tokens <paramref name="ids"/>
    /// (every token of the vocabulary when null): tokens with a cached piece share one <see cref="TextReward.ScoreExtensions"/>
    /// call per reward; the others, and every token after a response that ends inside a character, are decoded in full.
    /// </summary>
    private void ExtensionScores(int[] prompt, List<int> tokens, string text, int[]? ids, Span<float> scores)
    {
        var texts = _texts!;
        var promptText = PromptText(prompt);
        var all = ids is null;
        var appendable = TokenTexts.CanAppend(promptText, text);
        int[] simpleSlots, complexSlots;
        string[] pieces;
        if (all && appendable)
        {
            simpleSlots = texts.SimpleIds;
            pieces = texts.SimplePieces;
            complexSlots = texts.ComplexIds;
        }
        else
        {
            var simple = new List<int>();
            var complex = new List<int>();
            for (var j = 0; j < scores.Length; j++)
            {
                var id = all ? j : ids![j];
                if (appendable && (uint)id < (uint)texts.Pieces.Length && texts.Pieces[id] is not null) simple.Add(j);
                else complex.Add(j);
            }
            simpleSlots = [.. simple];
            complexSlots = [.. complex];
            pieces = simpleSlots.Select(j => texts.Pieces[all ? j : ids![j]]!).ToArray();
        }
        var response = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens)[prompt.Length..];
        var full = new string[complexSlots.Length];
        for (var c = 0; c < complexSlots.Length; c++) full[c] = texts.ResponseText(prompt, response, all ? complexSlots[c] : ids![complexSlots[c]]);
        var buffer = new float[simpleSlots.Length];
        foreach (var (reward, weight) in _programmatic)
        {
            reward.ScoreExtensions(promptText, text, pieces, buffer);
            for (var s = 0; s < simpleSlots.Length; s++) scores[simpleSlots[s]] += weight * buffer[s];
            for (var c = 0; c < complexSlots.Length; c++) scores[complexSlots[c]] += weight * reward.ScorePrefix(promptText, full[c]);
        }
    }
}
