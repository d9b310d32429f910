namespace DecodeAlign.Kernels;

/// <summary>Scalar arguments of the row-sampling kernel, packed because ILGPU kernels take at most nine parameters.</summary>
internal struct IlgpuRowArgs
{
    public int Vocab;
    public int TopK;        // 0 = off
    public int Greedy;      // 1 = argmax
    public int UseTopP;     // 1 = nucleus cut
    public int MaskOnly;    // 1 = write −∞ over dropped tokens instead of drawing
    public float Scale;     // log2(e) / τ
    public uint MinMass;    // 0 = off
    public ulong TopPQ32;
    public ulong Seed;
}

/// <summary>Scalar arguments of the penalty kernel.</summary>
internal struct IlgpuPenaltyArgs
{
    public int Vocab;
    public float InverseRepetition;
    public float Repetition;
    public float Frequency;
    public float Presence;
}
