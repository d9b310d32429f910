namespace DecodeAlign.Models.Onnx;

/// <summary>
/// Keys and values of every layer in the batch layout the graph consumes, [rows, kv_heads, slots, head_size],
/// plus a slot mask [rows, slots]. A row's cached tokens occupy its masked-in slots in order; padding and holes
/// left by truncation are masked out, so rows of different lengths share one tensor without recomputation.
/// Each step the graph's present tensors are written into the spare buffers, which then become the cache.
/// </summary>
internal sealed class KvCache
{
    private readonly int _layers;
    private readonly long _vectorBytes; // one head's key (or value) for one slot
    private readonly int _heads;
    private PinnedBuffer[] _keys, _values, _spareKeys, _spareValues;
    // Row-major [Rows, Slots] in the first Rows·Slots bytes; the spare is where the next layout is staged.
    private byte[] _mask = [], _spareMask = [];

    public KvCache(int layers, int heads, int headSize, int elementSize, Func<PinnedBuffer> newBuffer)
    {
        _layers = layers;
        _heads = heads;
        _vectorBytes = (long)headSize * elementSize;
        PinnedBuffer[] NewSet() => Enumerable.Range(0, _layers).Select(_ => newBuffer()).ToArray();
        _keys = NewSet();
        _values = NewSet();
        _spareKeys = NewSet();
        _spareValues = NewSet();
    }

    public int Rows { get; private set; }

    public int Slots { get; private set; }

    /// <summary>Changes whenever any row's keys, values or mask change, so copies taken from the cache can tell they are still current.</summary>
    public int Version { get; private set; }

    public long LayerBytes(int rows, int slots) => rows * _heads * slots * _vectorBytes;

    public PinnedBuffer Keys(int layer) => _keys[layer];

    public PinnedBuffer Values(int layer) => _values[layer];

    /// <summary>Spare buffers sized for the next step's present tensors.</summary>
    public (PinnedBuffer Keys, PinnedBuffer Values) Spare(int layer, int slots)
    {
        var bytes = LayerBytes(Rows, slots);
        _spareKeys[layer].EnsureCapacity(bytes);
        _spareValues[layer].EnsureCapacity(bytes);
        return (_spareKeys[layer], _spareValues[layer]);
    }

    public bool IsValid(int row, int slot) => _mask[row * Slots + slot] != 0;

    public ReadOnlySpan<byte> MaskRow(int row) => _mask.AsSpan(row * Slots, Slots);

    /// <summary>
    /// The spare mask, sized [<paramref name="rows"/>, <paramref name="slots"/>], for the caller to fill with the layout
    /// the next <see cref="CommitStep"/> installs; reused across steps so a step allocates nothing.
    /// </summary>
    public Span<byte> StageMask(int rows, int slots)
    {
        if (_spareMask.Length < rows * slots) _spareMask = new byte[Math.Max(rows * slots, _spareMask.Length * 3 / 2)];
        return _spareMask.AsSpan(0, rows * slots);
    }

    /// <summary>After a run: the spare buffers hold presents laid out as the staged mask ([rows, slots + added]).</summary>
    public void CommitStep(int added)
    {
        (_keys, _spareKeys) = (_spareKeys, _keys);
        (_values, _spareValues) = (_spareValues, _values);
        Slots += added;
        (_mask, _spareMask) = (_spareMask, _mask);
        Version++;
    }

    /// <summary>Rebuilds the rows: new row i copies old row <paramref name="sources"/>[i], or is empty where the source is −1.</summary>
    public void Gather(ReadOnlySpan<int> sources)
    {
        if (IsDrop(sources))
        {
            DropInPlace(sources);
            return;
        }
        var newRows = sources.Length;
        var rowBytes = _heads * Slots * _vectorBytes;
        for (var l = 0; l < _layers; l++)
        {
            GatherInto(_keys[l], _spareKeys[l], sources, rowBytes);
            GatherInto(_values[l], _spareValues[l], sources, rowBytes);
        }
        var mask = StageMask(newRows, Slots);
        for (var i = 0; i < newRows; i++)
        {
            var dst = mask.Slice(i * Slots, Slots);
            if (sources[i] >= 0) MaskRow(sources[i]).CopyTo(dst);
            else dst.Clear();
        }
        CommitStep(0);
        Rows = newRows;
    }

    /// <summary>True when <paramref name="sources"/> only drops rows (strictly increasing, none new): the rows can move in place.</summary>
    public bool IsDrop(ReadOnlySpan<int> sources)
    {
        for (var i = 0; i < sources.Length; i++)
            if (sources[i] < 0 || sources[i] >= Rows || (i > 0 && sources[i] <= sources[i - 1])) return false;
        return true;
    }

    /// <summary>
    /// Drops rows by moving the kept ones down within the same buffers: rows before the first dropped one stay where
    /// they are, so dropping finished rows near the end of the batch copies little instead of the whole cache.
    /// </summary>
    private void DropInPlace(ReadOnlySpan<int> sources)
    {
        var rowBytes = _heads * Slots * _vectorBytes;
        for (var i = 0; i < sources.Length; i++)
        {
            if (sources[i] == i) continue;
            for (var l = 0; l < _layers; l++)
            {
                _keys[l].Bytes(sources[i] * rowBytes, rowBytes).CopyTo(_keys[l].Bytes(i * rowBytes, rowBytes));
                _values[l].Bytes(sources[i] * rowBytes, rowBytes).CopyTo(_values[l].Bytes(i * rowBytes, rowBytes));
            }
            _mask.AsSpan(sources[i] * Slots, Slots).CopyTo(_mask.AsSpan(i * Slots));
        }
        Rows = sources.Length;
        Version++;
    }

    private static void GatherInto(PinnedBuffer from, PinnedBuffer to, ReadOnlySpan<int> sources, long rowBytes)
    {
        to.EnsureCapacity(rowBytes * sources.Length);
        for (var i = 0; i < sources.Length; i++)
        {
            var dst = to.Bytes(i * rowBytes, rowBytes);
            if (sources[i] >= 0) from.Bytes(sources[i] * rowBytes, rowBytes).CopyTo(dst);
            else dst.Clear();
        }
    }

    /// <summary>Copies rows <paramref name="sources"/> into the target buffers (one per layer), for a temporary batch.</summary>
    public void GatherTo(ReadOnlySpan<int> sources, PinnedBuffer[] targetKeys, PinnedBuffer[] targetValues)
    {
        var rowBytes = _heads * Slots * _vectorBytes;
        for (var l = 0; l < _layers; l++)
        {
            GatherInto(_keys[l], targetKeys[l], sources, rowBytes);
            GatherInto(_values[l], targetValues[l], sources, rowBytes);
        }
    }

    /// <summary>
    /// Appends one slot to every row without running the model: row r's new key and value are slot
    /// <paramref name="sourceSlot"/> of row <paramref name="sourceRows"/>[r] in per-layer buffers laid out
    /// [rows, kv_heads, <paramref name="sourceSlots"/>, head_size]; −1 leaves the slot empty and masked out.
    /// </summary>
    public void AppendSlot(PinnedBuffer[] sourceKeys, PinnedBuffer[] sourceValues, int sourceSlots, int sourceSlot, ReadOnlySpan<int> sourceRows)
    {
        var newSlots = Slots + 1;
        for (var l = 0; l < _layers; l++)
        {
            AppendInto(_keys[l], _spareKeys[l], sourceKeys[l], sourceSlots, sourceSlot, sourceRows, newSlots);
            AppendInto(_values[l], _spareValues[l], sourceValues[l], sourceSlots, sourceSlot, sourceRows, newSlots);
        }
        var mask = StageMask(Rows, newSlots);
        for (var r = 0; r < Rows; r++)
        {
            MaskRow(r).CopyTo(mask.Slice(r * newSlots));
            mask[r * newSlots + Slots] = (byte)(sourceRows[r] >= 0 ? 1 : 0);
        }
        CommitStep(1);
    }

    /// <summary>
    /// Copies one slot's keys and values from row <paramref name="fromRow"/> (−1: zeros) to row <paramref name="toRow"/>
    /// in per-layer buffers laid out [rows, kv_heads, <paramref name="slots"/>, head_size] (a temporary batch, not the cache).
    /// </summary>
    public void CopySlot(PinnedBuffer[] keys, PinnedBuffer[] values, int slots, int slot, int fromRow, int toRow)
    {
        for (var l = 0; l < _layers; l++)
            for (var h = 0; h < _heads; h++)
            {
                long from = (((long)fromRow * _heads + h) * slots + slot) * _vectorBytes, to = (((long)toRow * _heads + h) * slots + slot) * _vectorBytes;
                foreach (var buffer in (ReadOnlySpan<PinnedBuffer>)[keys[l], values[l]])
                {
                    if (fromRow < 0) buffer.Bytes(to, _vectorBytes).Clear();
                    else buffer.Bytes(from, _vectorBytes).CopyTo(buffer.Bytes(to, _vectorBytes));
                }
            }
    }

    private void AppendInto(PinnedBuffer from, PinnedBuffer to, PinnedBuffer source, int sourceSlots, int sourceSlot, ReadOnlySpan<int> sourceRows, int newSlots)
    {
        to.EnsureCapacity(LayerBytes(Rows, newSlots));
        for (var r = 0; r < Rows; r++)
            for (var h = 0; h < _heads; h++)
            {
                long old = ((long)r * _heads + h) * Slots * _vectorBytes, dst = ((long)r * _heads + h) * newSlots * _vectorBytes;
                from.Bytes(old, Slots * _vectorBytes).CopyTo(to.Bytes(dst, Slots * _vectorBytes));
                var slot = to.Bytes(dst + Slots * _vectorBytes, _vectorBytes);
                if (sourceRows[r] < 0) slot.Clear();
                else source.Bytes((((long)sourceRows[r] * _heads + h) * sourceSlots + sourceSlot) * _vectorBytes, _vectorBytes).CopyTo(slot);
            }
    }

    /// <summary>Masks out every cached slot of a row after its first <paramref name="keep"/> valid ones.</summary>
    public void KeepFirst(int row, int keep)
    {
        Version++;
        var m = _mask.AsSpan(row * Slots, Slots);
        var seen = 0;
        for (var s = 0; s < m.Length; s++)
            if (m[s] != 0 && ++seen > keep) m[s] = 0;
    }

    /// <summary>
    /// Packs every row's valid slots to the front and drops slots no row uses, so holes from truncation and padding
    /// from uneven rows do not grow the tensors the graph attends over.
    /// </summary>
    public void Compact()
    {
        var counts = new int[Rows];
        for (var r = 0; r < Rows; r++)
            foreach (var b in MaskRow(r)) counts[r] += b;
        var newSlots = counts.Length == 0 ? 0 : counts.Max();
        if (newSlots == Slots) return;
        for (var l = 0; l < _layers; l++)
        {
            Pack(_keys[l], _spareKeys[l], newSlots);
            Pack(_values[l], _spareValues[l], newSlots);
        }
        var mask = StageMask(Rows, newSlots);
        mask.Clear();
        for (var r = 0; r < Rows; r++) mask.Slice(r * newSlots, counts[r]).Fill(1);
        CommitStep(newSlots - Slots);
    }

    private void Pack(PinnedBuffer from, PinnedBuffer to, int newSlots)
    {
        to.EnsureCapacity(LayerBytes(Rows, newSlots));
        for (var r = 0; r < Rows; r++)
        {
            var mask = MaskRow(r);
            for (var h = 0; h < _heads; h++)
            {
                long src = ((long)r * _heads + h) * Slots * _vectorBytes, dst = ((long)r * _heads + h) * newSlots * _vectorBytes;
                var written = 0;
                for (var s = 0; s < Slots; s++)
                    if (mask[s] != 0)
                        from.Bytes(src + s * _vectorBytes, _vectorBytes).CopyTo(to.Bytes(dst + written++ * _vectorBytes, _vectorBytes));
                to.Bytes(dst + written * _vectorBytes, (newSlots - written) * _vectorBytes).Clear();
            }
        }
    }

    /// <summary>Number of masked-in slots that hold no real token, summed over rows.</summary>
    public int WastedSlots()
    {
        var valid = 0;
        foreach (var b in _mask.AsSpan(0, Rows * Slots)) valid += b;
        return Rows * Slots - valid;
    }
}
