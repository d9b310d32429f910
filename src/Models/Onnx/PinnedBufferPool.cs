namespace DecodeAlign.Models.Onnx;

/// <summary>
/// Pinned buffers handed from disposed sessions to new sessions of the same model. Strategies open fresh sessions
/// for every decode (and the reward model for every scoring batch); allocating their KV caches anew each time put
/// megabytes per decode on the pinned object heap, which only gen-2 collections reclaim, and paid the page faults
/// of fresh memory on every step that grew the cache.
/// </summary>
internal sealed class PinnedBufferPool(long maxRetainedBytes = PinnedBufferPool.DefaultRetainedBytes)
{
    /// <summary>Enough for the KV caches of a few concurrent small-model sessions; beyond it buffers go back to the GC.</summary>
    public const long DefaultRetainedBytes = 256L << 20;

    private readonly Stack<PinnedBuffer> _free = new();
    private readonly Lock _lock = new();
    private long _retained;

    /// <summary>A free buffer of any size (contents undefined), or a new empty one.</summary>
    public PinnedBuffer Rent()
    {
        lock (_lock)
        {
            if (_free.TryPop(out var buffer))
            {
                _retained -= buffer.Capacity;
                return buffer;
            }
        }
        return new PinnedBuffer();
    }

    /// <summary>
    /// Keeps a buffer for the next session. A session returns its buffers in the reverse order of renting, so the next
    /// one that rents in the same order gets each buffer back in the role (and at the size) it had.
    /// </summary>
    public void Return(PinnedBuffer buffer)
    {
        lock (_lock)
        {
            if (_retained + buffer.Capacity > maxRetainedBytes) return;
            _free.Push(buffer);
            _retained += buffer.Capacity;
        }
    }
}
