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
    private byte[] _mask = [];

    public KvCache(int layers, int heads, int headSize, int elementSize)
    {
        _layers = layers;
        _heads = heads;
        _vectorBytes = (long)headSize * elementSize;
        _keys = NewSet();
        _values = NewSet();
        _spareKeys = NewSet();
        _spareValues = NewSet();
    }

    private PinnedBuffer[] NewSet() => Enumerable.Range(0, _layers).Select(_ => new PinnedBuffer()).ToArray();

    public int Rows { get; private set; }

    public int Slots { get; private set; }

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

    /// <summary>After a run: the spare buffers hold presents with <paramref name="newMask"/> ([rows, slots + added]).</summary>
    public void CommitStep(int added, byte[] newMask)
    {
        (_keys, _spareKeys) = (_spareKeys, _keys);
        (_values, _spareValues) = (_spareValues, _values);
        Slots += added;
        _mask = newMask;
    }

    /// <summary>Rebuilds the rows: new row i copies old row <paramref name="sources"/>[i], or is empty where the source is −1.</summary>
    public void Gather(ReadOnlySpan<int> sources)
    {
        var newRows = sources.Length;
        var rowBytes = _heads * Slots * _vectorBytes;
        for (var l = 0; l < _layers; l++)
        {
            GatherInto(_keys[l], _spareKeys[l], sources, rowBytes);
            GatherInto(_values[l], _spareValues[l], sources, rowBytes);
        }
        (_keys, _spareKeys) = (_spareKeys, _keys);
        (_values, _spareValues) = (_spareValues, _values);
        var mask = new byte[newRows * Slots];
        for (var i = 0; i < newRows; i++)
            if (sources[i] >= 0) _mask.AsSpan(sources[i] * Slots, Slots).CopyTo(mask.AsSpan(i * Slots));
        _mask = mask;
        Rows = newRows;
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
        var mask = new byte[Rows * newSlots];
        for (var r = 0; r < Rows; r++)
        {
            MaskRow(r).CopyTo(mask.AsSpan(r * newSlots));
            mask[r * newSlots + Slots] = (byte)(sourceRows[r] >= 0 ? 1 : 0);
        }
        CommitStep(1, mask);
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
        (_keys, _spareKeys) = (_spareKeys, _keys);
        (_values, _spareValues) = (_spareValues, _values);
        var mask = new byte[Rows * newSlots];
        for (var r = 0; r < Rows; r++) mask.AsSpan(r * newSlots, counts[r]).Fill(1);
        _mask = mask;
        Slots = newSlots;
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
        foreach (var b in _mask) valid += b;
        return Rows * Slots - valid;
    }
}
