namespace DecodeAlign.Kernels;

/// <summary>Scratch buffers of one CPU worker (rows run in parallel each take their own), grown on demand and reused.</summary>
internal sealed class SimdRowWorkspace
{
    public TopKSelector TopK { get; } = new();

    public float[] Row = [];
    public uint[] Mass = [];
    public int[] Candidates = [];
    public ulong[] Keys = [];
    public int[] Ids = [];
    public float[] Values = [];
    public int[] Sorted = [];

    /// <summary>Key scratch for a candidate list of <paramref name="count"/> entries.</summary>
    public Span<ulong> KeysFor(int count) => Grow(ref Keys, count);

    public static Span<T> Grow<T>(ref T[] buffer, int size)
    {
        if (buffer.Length < size) buffer = new T[Math.Max(size, buffer.Length * 2)];
        return buffer.AsSpan(0, size);
    }
}
