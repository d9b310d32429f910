namespace DecodeAlign.Models;

/// <summary>
/// A row-major block of per-row model outputs [Rows × Width] (logits, values or scores) in float32, owned by the
/// session that produced it and valid until that session changes.
/// </summary>
public readonly struct RowOutputs
{
    private readonly ReadOnlyMemory<float> _values;

    /// <summary>Wraps <paramref name="values"/> of <paramref name="rows"/> × <paramref name="width"/> floats.</summary>
    public RowOutputs(ReadOnlyMemory<float> values, int rows, int width)
    {
        if (values.Length != (long)rows * width)
            throw new ArgumentException($"Expected {rows}×{width} values, got {values.Length}.", nameof(values));
        _values = values;
        Rows = rows;
        Width = width;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Values per row (vocabulary size for logits, 1 for scalar scores).</summary>
    public int Width { get; }

    /// <summary>All values, row-major.</summary>
    public ReadOnlyMemory<float> Values => _values;

    /// <summary>The values of one row.</summary>
    public ReadOnlySpan<float> Row(int row) => _values.Span.Slice(row * Width, Width);
}
