using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// Rows of tokens over one <see cref="OnnxDecoder"/> with a shared batch KV cache. Each forward call runs the pending
/// tokens of every row as one padded chunk (left-padded so every row's last real token sits in the last column),
/// writes the graph's presents straight into pre-allocated pinned buffers, and keeps each row's output at its last
/// token. Fork, reorder and truncate act on the cache in place, never by recomputation.
/// </summary>
internal sealed class DecoderSession : IDecoderSession
{
    private readonly OnnxDecoder _model;
    private readonly DecoderLayout _l;
    private readonly KvCache _cache;
    private List<RowState> _rows = [];
    // Each row's output at its last token in the first RowCount·OutputWidth floats; a step writes the spare and swaps.
    private float[] _outputs = [], _spareOutputs = [];
    private float[] _candidateOutputs = [];
    private CandidateMemo? _memo;

    /// <summary>
    /// The last candidate call: which rows were extended by which tokens, at which cache state. When every pending row
    /// then appends exactly one of its scored candidates (ARGS appends the chosen one), the next forward copies the
    /// candidate's key/value slot and output instead of running the model again.
    /// </summary>
    /// <param name="Rows">Session rows that were extended.</param>
    /// <param name="Offsets">Where each row's k candidates start in the candidate batch.</param>
    /// <param name="Candidates">The candidate tokens, row by row.</param>
    /// <param name="K">Candidates per row.</param>
    /// <param name="Slots">Cache slots when the candidates ran (the memo is stale once that changes).</param>
    /// <param name="Cached">Each row's cached token count when the candidates ran.</param>
    private sealed record CandidateMemo(int[] Rows, int[] Offsets, int[] Candidates, int K, int Slots, int[] Cached);
    private readonly PinnedBuffer _ids, _mask, _positions, _out;
    private PinnedBuffer[] _tmpPastK, _tmpPastV, _tmpPresentK, _tmpPresentV;

    /// <summary>
    /// Set when the last candidate call was committed: the candidate batch's presents, with every row's chosen slot
    /// copied to its k copies, already hold the rows' caches, so the next candidate call over the same rows and k (at
    /// cache version Version) uses them as its past instead of copying each row's whole cache k times again.
    /// </summary>
    private (int[] Rows, int K, int Version)? _candidatePast;
    // Per-step views of the cache's current and spare buffers, refilled each step instead of allocated.
    private readonly PinnedBuffer[] _pastK, _pastV, _presentK, _presentV;
    private readonly List<PinnedBuffer> _rented = [];
    private readonly string[] _inputNames, _outputNames;
    private bool _disposed;

    public DecoderSession(OnnxDecoder model, DecoderLayout? layout = null)
    {
        _model = model;
        _l = layout ?? model.Layout;
        Info = _l.ToInfo();
        _cache = new KvCache(_l.NumLayers, _l.NumKvHeads, _l.HeadSize, _l.KvElementSize, Rent);
        (_ids, _mask, _positions, _out) = (Rent(), Rent(), Rent(), Rent());
        PinnedBuffer[] Set() => Enumerable.Range(0, _l.NumLayers).Select(_ => Rent()).ToArray();
        (_tmpPastK, _tmpPastV, _tmpPresentK, _tmpPresentV) = (Set(), Set(), Set(), Set());
        PinnedBuffer[] Views() => new PinnedBuffer[_l.NumLayers];
        (_pastK, _pastV, _presentK, _presentV) = (Views(), Views(), Views(), Views());
        var inputs = new List<string> { _l.InputIds, _l.AttentionMask };
        if (_l.PositionIds is not null) inputs.Add(_l.PositionIds);
        for (var i = 0; i < _l.NumLayers; i++) inputs.AddRange([_l.PastKeys[i], _l.PastValues[i]]);
        _inputNames = [.. inputs];
        var outputs = new List<string> { _l.Output };
        for (var i = 0; i < _l.NumLayers; i++) outputs.AddRange([_l.PresentKeys[i], _l.PresentValues[i]]);
        _outputNames = [.. outputs];
    }

    private sealed class RowState
    {
        public List<int> Tokens = [];
        public int Cached;
        public bool OutputValid;

        public int Pending => Tokens.Count - Cached;

        public RowState Clone() => new() { Tokens = [.. Tokens], Cached = Cached, OutputValid = OutputValid };
    }

    public DecoderInfo Info { get; }

    public int RowCount => _rows.Count;

    public SessionTelemetry Telemetry { get; } = new();

    public ReadOnlySpan<int> GetTokens(int row) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Row(row).Tokens);

    private PinnedBuffer Rent()
    {
        var buffer = _model.Buffers.Rent();
        _rented.Add(buffer);
        return buffer;
    }

    public int AddRow(ReadOnlySpan<int> tokens)
    {
        CheckTokens(tokens, tokens.Length, "prompt");
        var sources = Enumerable.Range(0, _rows.Count).Append(-1).ToArray();
        _memo = null;
        _cache.Gather(sources);
        if (_outputs.Length < (_rows.Count + 1) * _l.OutputWidth) Array.Resize(ref _outputs, Math.Max((_rows.Count + 1) * _l.OutputWidth, _outputs.Length * 3 / 2));
        _rows.Add(new RowState { Tokens = [.. tokens] });
        return _rows.Count - 1;
    }

    public void Append(int row, ReadOnlySpan<int> tokens)
    {
        var r = Row(row);
        CheckTokens(tokens, r.Tokens.Count + tokens.Length, $"row {row}");
        r.Tokens.AddRange(tokens);
        if (tokens.Length > 0) r.OutputValid = false;
    }

    public void AppendToAll(ReadOnlySpan<int> tokenPerRow)
    {
        if (tokenPerRow.Length != _rows.Count)
            throw new ArgumentException($"Expected one token per row ({_rows.Count}), got {tokenPerRow.Length}.", nameof(tokenPerRow));
        for (var i = 0; i < tokenPerRow.Length; i++) Append(i, tokenPerRow.Slice(i, 1));
    }

    public void Select(ReadOnlySpan<int> sourceRows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var s in sourceRows)
            if ((uint)s >= (uint)_rows.Count)
                throw new ArgumentOutOfRangeException(nameof(sourceRows), $"Row {s} does not exist (the session has {_rows.Count} rows).");
        _memo = RemapMemo(_memo, sourceRows);
        var w = _l.OutputWidth;
        if (_cache.IsDrop(sourceRows))
        {
            // Dropping rows (finished ones) moves the kept rows down in place: no clones, no fresh buffers.
            _cache.Gather(sourceRows);
            for (var i = 0; i < sourceRows.Length; i++)
            {
                if (sourceRows[i] == i) continue;
                _rows[i] = _rows[sourceRows[i]];
                _outputs.AsSpan(sourceRows[i] * w, w).CopyTo(_outputs.AsSpan(i * w));
            }
            _rows.RemoveRange(sourceRows.Length, _rows.Count - sourceRows.Length);
            return;
        }
        _cache.Gather(sourceRows);
        var outputs = SpareOutputs(sourceRows.Length);
        var rows = new List<RowState>(sourceRows.Length);
        for (var i = 0; i < sourceRows.Length; i++)
        {
            rows.Add(_rows[sourceRows[i]].Clone());
            _outputs.AsSpan(sourceRows[i] * w, w).CopyTo(outputs.AsSpan(i * w));
        }
        _rows = rows;
        (_outputs, _spareOutputs) = (_spareOutputs, _outputs);
    }

    /// <summary>The spare output block, grown to hold <paramref name="rows"/> rows (contents undefined).</summary>
    private float[] SpareOutputs(int rows)
    {
        var n = rows * _l.OutputWidth;
        if (_spareOutputs.Length < n) _spareOutputs = new float[Math.Max(n, _outputs.Length)];
        return _spareOutputs;
    }

    public void Truncate(int row, int length)
    {
        var r = Row(row);
        if ((uint)length > (uint)r.Tokens.Count)
            throw new ArgumentOutOfRangeException(nameof(length), $"Row {row} has {r.Tokens.Count} tokens; cannot truncate to {length}.");
        if (length == r.Tokens.Count) return;
        r.Tokens.RemoveRange(length, r.Tokens.Count - length);
        if (length > r.Cached)
        {
            r.OutputValid = false;
            return;
        }
        // The output at the new last token was never kept (or was dropped when tokens were appended after it), so that
        // token is re-run: the cache keeps one token fewer.
        KeepCached(row, r, Math.Max(length - 1, 0));
        r.OutputValid = false;
    }

    /// <summary>Drops the row's cache beyond its first <paramref name="cached"/> tokens (its tokens are already cut).</summary>
    private void KeepCached(int row, RowState r, int cached)
    {
        _memo = null;
        r.Cached = cached;
        _cache.KeepFirst(row, cached);
    }

    public void Rewind(int row, int length, ReadOnlySpan<float> outputAtLength)
    {
        var r = Row(row);
        if (outputAtLength.Length != _l.OutputWidth)
            throw new ArgumentException($"Expected an output of width {_l.OutputWidth}, got {outputAtLength.Length}.", nameof(outputAtLength));
        if (length < 1 || length > r.Cached)
        {
            Truncate(row, length);
            return;
        }
        if (length == r.Tokens.Count) return;
        r.Tokens.RemoveRange(length, r.Tokens.Count - length);
        KeepCached(row, r, length);
        outputAtLength.CopyTo(_outputs.AsSpan(row * _l.OutputWidth, _l.OutputWidth));
        r.OutputValid = true;
    }

    public RowOutputs Forward(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var chunk = 0;
        for (var i = 0; i < _rows.Count; i++)
        {
            var r = _rows[i];
            if (r.Tokens.Count == 0) throw new InvalidOperationException($"Row {i} holds no tokens; add at least one (e.g. BOS) before running the model.");
            if (!r.OutputValid && r.Pending == 0) throw new InvalidOperationException($"Row {i} has no output and nothing pending.");
            chunk = Math.Max(chunk, r.Pending);
        }
        if (chunk > 0 && !TryCommitCandidates()) RunPending(chunk, cancellationToken);
        return new RowOutputs(_outputs.AsMemory(0, _rows.Count * _l.OutputWidth), _rows.Count, _l.OutputWidth);
    }

    public RowOutputs ForwardCandidates(ReadOnlySpan<int> rows, ReadOnlySpan<int> candidates, CancellationToken cancellationToken = default)
    {
        if (rows.Length == 0 || candidates.Length % rows.Length != 0)
            throw new ArgumentException($"Expected k candidates for each of the {rows.Length} rows; got {candidates.Length} candidates.", nameof(candidates));
        var k = candidates.Length / rows.Length;
        foreach (var row in rows) Row(row);
        CheckTokens(candidates, 0, "candidates");
        Forward(cancellationToken);
        var batch = candidates.Length;
        var sources = new int[batch];
        for (var i = 0; i < batch; i++) sources[i] = rows[i / k];
        for (var i = 0; i < rows.Length; i++)
            if (_rows[rows[i]].Tokens.Count + 1 > _l.ContextLength)
                throw new ContextLengthExceededException(_rows[rows[i]].Tokens.Count + 1, _l.ContextLength, $"row {rows[i]} with a candidate");
        if (_candidatePast is not { } past || past.Version != _cache.Version || past.K != k || !rows.SequenceEqual(past.Rows))
            _cache.GatherTo(sources, _tmpPastK, _tmpPastV);
        _candidatePast = null;
        var slots = _cache.Slots;
        var ids = _ids.As<long>(batch);
        var mask = _mask.AsLongs(batch * (slots + 1));
        var pos = _positions.As<long>(batch);
        for (var i = 0; i < batch; i++)
        {
            var src = sources[i];
            ids[i] = candidates[i];
            pos[i] = _rows[src].Cached;
            var m = _cache.MaskRow(src);
            for (var s = 0; s < slots; s++) mask[i * (slots + 1) + s] = m[s];
            mask[i * (slots + 1) + slots] = 1;
        }
        for (var l = 0; l < _l.NumLayers; l++)
        {
            var bytes = _cache.LayerBytes(batch, slots + 1);
            _tmpPresentK[l].EnsureCapacity(bytes);
            _tmpPresentV[l].EnsureCapacity(bytes);
        }
        if (_candidateOutputs.Length < batch * _l.OutputWidth) _candidateOutputs = new float[batch * _l.OutputWidth];
        var real = Enumerable.Repeat(1, batch).ToArray();
        Execute(batch, 1, slots, _tmpPastK, _tmpPastV, _tmpPresentK, _tmpPresentV, real, _candidateOutputs, cancellationToken);
        _memo = new CandidateMemo(rows.ToArray(), Enumerable.Range(0, rows.Length).Select(i => i * k).ToArray(), candidates.ToArray(), k, slots,
            rows.ToArray().Select(r => _rows[r].Cached).ToArray());
        return new RowOutputs(_candidateOutputs.AsMemory(0, batch * _l.OutputWidth), batch, _l.OutputWidth);
    }

    /// <summary>Carries the candidate memo through a Select, so dropping finished rows keeps the reuse for the others.</summary>
    private static CandidateMemo? RemapMemo(CandidateMemo? memo, ReadOnlySpan<int> sourceRows)
    {
        if (memo is null) return null;
        List<int> rows = [], offsets = [], cached = [];
        for (var i = 0; i < sourceRows.Length; i++)
        {
            var e = Array.IndexOf(memo.Rows, sourceRows[i]);
            if (e < 0) continue;
            rows.Add(i);
            offsets.Add(memo.Offsets[e]);
            cached.Add(memo.Cached[e]);
        }
        return memo with { Rows = [.. rows], Offsets = [.. offsets], Cached = [.. cached] };
    }

    /// <summary>Serves the pending tokens from the last candidate call when each is one of its row's scored candidates.</summary>
    private bool TryCommitCandidates()
    {
        var memo = _memo;
        _memo = null;
        if (memo is null || memo.Slots != _cache.Slots) return false;
        var sources = new int[_rows.Count];
        for (var r = 0; r < _rows.Count; r++)
        {
            var row = _rows[r];
            sources[r] = -1;
            if (row.Pending == 0) continue;
            var i = Array.IndexOf(memo.Rows, r);
            if (row.Pending != 1 || i < 0 || memo.Cached[i] != row.Cached) return false;
            var j = Array.IndexOf(memo.Candidates, row.Tokens[^1], memo.Offsets[i], memo.K);
            if (j < 0) return false;
            sources[r] = j;
        }
        _cache.AppendSlot(_tmpPresentK, _tmpPresentV, memo.Slots + 1, memo.Slots, sources);
        var w = _l.OutputWidth;
        for (var r = 0; r < _rows.Count; r++)
        {
            if (sources[r] < 0) continue;
            _candidateOutputs.AsSpan(sources[r] * w, w).CopyTo(_outputs.AsSpan(r * w));
            _rows[r].Cached++;
            _rows[r].OutputValid = true;
        }
        KeepCandidatePast(memo, sources);
        return true;
    }

    /// <summary>After a commit, turns the candidate presents into the next candidate call's past (see <see cref="_candidatePast"/>).</summary>
    private void KeepCandidatePast(CandidateMemo memo, int[] sources)
    {
        // Only a batch that is still laid out row by row (no rows dropped since the call) matches the next call's layout.
        if (memo.Candidates.Length != memo.Rows.Length * memo.K) return;
        for (var e = 0; e < memo.Rows.Length; e++)
            if (memo.Offsets[e] != e * memo.K) return;
        // Each copy then holds exactly what gathering the row from the cache would give: its new slot is the chosen
        // candidate's, or empty (as the cache has it) where the row appended nothing.
        for (var e = 0; e < memo.Rows.Length; e++)
        {
            var chosen = sources[memo.Rows[e]];
            for (var c = memo.Offsets[e]; c < memo.Offsets[e] + memo.K; c++)
                if (c != chosen) _cache.CopySlot(_tmpPresentK, _tmpPresentV, memo.Slots + 1, memo.Slots, chosen, c);
        }
        (_tmpPastK, _tmpPresentK) = (_tmpPresentK, _tmpPastK);
        (_tmpPastV, _tmpPresentV) = (_tmpPresentV, _tmpPastV);
        _candidatePast = (memo.Rows, memo.K, _cache.Version);
    }

    /// <summary>
    /// Runs all pending tokens. Some exports (ONNX Runtime GenAI's attention-mask subgraph) accept several new tokens
    /// only when the past is empty; the first time such a graph refuses a chunk after a past, the session falls back to
    /// one position per call for that case, which those graphs do accept.
    /// </summary>
    private void RunPending(int chunk, CancellationToken ct)
    {
        var pending = _rows.Select(r => r.Pending).ToArray();
        if (chunk == 1 || _cache.Slots == 0 || _chunkAfterPast != false)
        {
            try
            {
                RunChunk(chunk, pending, ct);
                if (_cache.Slots > chunk) _chunkAfterPast ??= chunk > 1 ? true : null;
                return;
            }
            catch (ModelException) when (chunk > 1 && _cache.Slots > 0 && _chunkAfterPast is null)
            {
                _chunkAfterPast = false;
            }
        }
        for (var j = 0; j < chunk; j++)
        {
            var take = new int[pending.Length];
            for (var r = 0; r < take.Length; r++) take[r] = j >= chunk - pending[r] ? 1 : 0;
            RunChunk(1, take, ct);
        }
    }

    private bool? _chunkAfterPast;

    private void RunChunk(int chunk, int[] take, CancellationToken ct)
    {
        var batch = _rows.Count;
        var slots = _cache.Slots;
        var total = slots + chunk;
        var ids = _ids.As<long>(batch * chunk);
        var pos = _positions.As<long>(batch * chunk);
        var mask = _mask.AsLongs(batch * total);
        var newMask = _cache.StageMask(batch, total);
        var pending = take;
        var pad = _l.PadTokenId ?? 0;
        for (var r = 0; r < batch; r++)
        {
            var row = _rows[r];
            var n = take[r];
            var lead = chunk - n;
            var m = _cache.MaskRow(r);
            for (var s = 0; s < slots; s++) mask[r * total + s] = newMask[r * total + s] = m[s];
            for (var j = 0; j < chunk; j++)
            {
                var real = j >= lead;
                ids[r * chunk + j] = real ? row.Tokens[row.Cached + j - lead] : pad;
                pos[r * chunk + j] = real ? row.Cached + j - lead : row.Cached;
                mask[r * total + slots + j] = newMask[r * total + slots + j] = (byte)(real ? 1 : 0);
            }
        }
        for (var l = 0; l < _l.NumLayers; l++)
        {
            (_presentK[l], _presentV[l]) = _cache.Spare(l, total);
            (_pastK[l], _pastV[l]) = (_cache.Keys(l), _cache.Values(l));
        }

        var width = batch * _l.OutputWidth;
        var wide = SpareOutputs(batch);
        _outputs.AsSpan(0, width).CopyTo(wide);
        Execute(batch, chunk, slots, _pastK, _pastV, _presentK, _presentV, pending, wide, ct);

        // Nothing above touched the session's state (only spares were written), so a cancelled or failed run leaves it as it was.
        _cache.CommitStep(chunk);
        (_outputs, _spareOutputs) = (_spareOutputs, _outputs);
        for (var r = 0; r < batch; r++)
        {
            if (pending[r] == 0) continue;
            _rows[r].Cached += pending[r];
            _rows[r].OutputValid = _rows[r].Pending == 0;
        }
        if (_cache.WastedSlots() > Math.Max(64, batch * _cache.Slots / 2)) _cache.Compact();
    }

    /// <summary>
    /// One ONNX Runtime run over [batch, chunk] new tokens after <paramref name="slots"/> cached slots. Rows whose
    /// <paramref name="realTokens"/> is 0 keep their previous output in <paramref name="outputs"/>.
    /// </summary>
    private void Execute(int batch, int chunk, int slots, PinnedBuffer[] pastK, PinnedBuffer[] pastV,
        PinnedBuffer[] presentK, PinnedBuffer[] presentV, int[] realTokens, float[] outputs, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var wall = Stopwatch.StartNew();
        var total = slots + chunk;
        var width = _l.OutputWidth;
        var outElem = _l.OutputIsHalf ? 2 : 4;
        var outShape = _l.Head == DecoderOutputKind.Scores ? new long[] { batch, chunk } : [batch, chunk, width];
        _out.EnsureCapacity((long)batch * chunk * width * outElem);
        var kvType = _l.KvIsHalf ? TensorElementType.Float16 : TensorElementType.Float;
        var mem = OrtMemoryInfo.DefaultInstance;

        var values = new List<OrtValue>(_inputNames.Length + _outputNames.Length);
        try
        {
            values.Add(IdsValue(_ids, [batch, chunk]));
            values.Add(OrtValue.CreateTensorValueWithData(mem, TensorElementType.Int64, [batch, total], _mask.Pointer, (long)batch * total * 8));
            if (_l.PositionIds is not null)
                values.Add(IdsValue(_positions, [batch, chunk]));
            long[] pastShape = [batch, _l.NumKvHeads, slots, _l.HeadSize], presentShape = [batch, _l.NumKvHeads, total, _l.HeadSize];
            for (var l = 0; l < _l.NumLayers; l++)
            {
                values.Add(OrtValue.CreateTensorValueWithData(mem, kvType, pastShape, pastK[l].Pointer, _cache.LayerBytes(batch, slots)));
                values.Add(OrtValue.CreateTensorValueWithData(mem, kvType, pastShape, pastV[l].Pointer, _cache.LayerBytes(batch, slots)));
            }
            var inputCount = values.Count;
            values.Add(OrtValue.CreateTensorValueWithData(mem, _l.OutputIsHalf ? TensorElementType.Float16 : TensorElementType.Float, outShape, _out.Pointer, (long)batch * chunk * width * outElem));
            for (var l = 0; l < _l.NumLayers; l++)
            {
                values.Add(OrtValue.CreateTensorValueWithData(mem, kvType, presentShape, presentK[l].Pointer, _cache.LayerBytes(batch, total)));
                values.Add(OrtValue.CreateTensorValueWithData(mem, kvType, presentShape, presentV[l].Pointer, _cache.LayerBytes(batch, total)));
            }

            var runtime = Stopwatch.StartNew();
            using (var runOptions = new RunOptions())
            using (ct.Register(() => runOptions.Terminate = true))
            {
                try
                {
                    _model.Session.Run(runOptions, _inputNames, values.GetRange(0, inputCount), _outputNames, values.GetRange(inputCount, values.Count - inputCount));
                }
                catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The model run was cancelled.", ct);
                }
                catch (OnnxRuntimeException ex)
                {
                    throw new ModelException($"{_l.Source}: ONNX Runtime failed on a batch of {batch}×{chunk} tokens after {slots} cached positions: {ex.Message}", ex);
                }
            }
            runtime.Stop();

            var computed = 0;
            for (var r = 0; r < batch; r++)
            {
                if (realTokens[r] == 0) continue;
                computed += realTokens[r];
                var dst = outputs.AsSpan(r * width, width);
                var offset = ((long)r * chunk + chunk - 1) * width;
                if (_l.OutputIsHalf) TensorPrimitives.ConvertToSingle(_out.Slice<Half>(offset, width), dst);
                else _out.Slice<float>(offset, width).CopyTo(dst);
                var max = TensorPrimitives.Max(dst);
                if (float.IsNaN(max) || float.IsPositiveInfinity(max)) throw new NonFiniteOutputException(_l.Output, r, _l.Source);
            }
            wall.Stop();
            Telemetry.Record(new StepTelemetry(batch, chunk, computed, runtime.Elapsed, wall.Elapsed), (long)batch * chunk - computed);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private OrtValue IdsValue(PinnedBuffer buffer, long[] shape)
    {
        var count = shape[0] * shape[1];
        if (!_l.IdsAreInt32)
            return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Int64, shape, buffer.Pointer, count * 8);
        // Rare int32 exports: narrow in place (the int32 view fits in the first half of the int64 buffer).
        var longs = buffer.As<long>(count).ToArray();
        var ints = buffer.As<int>(count);
        for (var i = 0; i < count; i++) ints[i] = (int)longs[i];
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Int32, shape, buffer.Pointer, count * 4);
    }

    private RowState Row(int row)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)row >= (uint)_rows.Count)
            throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} does not exist (the session has {_rows.Count} rows).");
        return _rows[row];
    }

    private void CheckTokens(ReadOnlySpan<int> tokens, int newLength, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (newLength > _l.ContextLength) throw new ContextLengthExceededException(newLength, _l.ContextLength, what);
        var vocab = Info.VocabSize;
        foreach (var t in tokens)
            if ((uint)t >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"Token id {t} in the {what} is outside the model's vocabulary [0, {vocab}).");
    }

    /// <summary>Hands the session's buffers to the model's pool for the next session; outputs already returned stay readable.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (var i = _rented.Count - 1; i >= 0; i--) _model.Buffers.Return(_rented[i]);
        _rented.Clear();
    }
}
