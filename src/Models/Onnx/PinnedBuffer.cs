using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// A growable byte buffer on the pinned object heap, so ONNX Runtime can read and write it in place through
/// <c>OrtValue</c>s that wrap it without copies; reused across decoding steps.
/// </summary>
internal sealed class PinnedBuffer
{
    private byte[] _data;

    public PinnedBuffer(long bytes = 0) => _data = Allocate(bytes);

    public long Capacity => _data.LongLength;

    public unsafe IntPtr Pointer => (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));

    public Span<byte> Bytes(long offset, long length) => _data.AsSpan(checked((int)offset), checked((int)length));

    /// <summary>The first <paramref name="count"/> elements as <typeparamref name="T"/>, growing the buffer if needed.</summary>
    public Span<T> As<T>(long count) where T : unmanaged
    {
        EnsureCapacity(count * Unsafe.SizeOf<T>());
        return MemoryMarshal.Cast<byte, T>(_data.AsSpan(0, checked((int)(count * Unsafe.SizeOf<T>()))));
    }

    /// <summary>The first <paramref name="count"/> int64 values, growing the buffer if needed.</summary>
    public Span<long> AsLongs(long count)
    {
        EnsureCapacity(count * 8);
        return As<long>(count);
    }

    /// <summary>Elements [offset, offset + count) viewed as <typeparamref name="T"/>.</summary>
    public ReadOnlySpan<T> Slice<T>(long offset, int count) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(_data.AsSpan(checked((int)(offset * Unsafe.SizeOf<T>())), count * Unsafe.SizeOf<T>()));

    /// <summary>Makes room for <paramref name="bytes"/>; contents are not preserved (callers copy what they need first).</summary>
    public void EnsureCapacity(long bytes)
    {
        if (bytes > _data.LongLength) _data = Allocate(Math.Max(bytes, _data.LongLength + _data.LongLength / 2));
    }

    private static byte[] Allocate(long bytes) => GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(bytes, 16)), pinned: true);
}
