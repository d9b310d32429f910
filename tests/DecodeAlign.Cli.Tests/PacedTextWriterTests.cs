namespace DecodeAlign.Cli.Tests;

/// <summary>The CLI's streamed text: the first piece at once, later pieces batched per interval, nothing lost or reordered.</summary>
public sealed class PacedTextWriterTests
{
    /// <summary>Counts the writer's writes to its target.</summary>
    private sealed class CountingWriter : StringWriter
    {
        public int Writes { get; private set; }

        public override void Write(string? value)
        {
            Writes++;
            base.Write(value);
        }
    }

    [Fact]
    public void The_first_piece_goes_out_at_once_and_later_ones_wait_for_the_interval()
    {
        var target = new CountingWriter();
        var paced = new PacedTextWriter(target, TimeSpan.FromHours(1));
        paced.Write("Once");
        Assert.Equal("Once", target.ToString());
        foreach (var piece in new[] { " upon", " a", " time" }) paced.Write(piece);
        Assert.Equal("Once", target.ToString());
        paced.Flush();
        Assert.Equal("Once upon a time", target.ToString());
        Assert.Equal(2, target.Writes);
    }

    [Fact]
    public void A_zero_interval_writes_every_piece()
    {
        var target = new CountingWriter();
        var paced = new PacedTextWriter(target, TimeSpan.Zero);
        for (var i = 0; i < 5; i++) paced.Write(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("01234", target.ToString());
        Assert.Equal(5, target.Writes);
        paced.Flush();
        Assert.Equal(5, target.Writes);
    }

    [Fact]
    public void Pieces_written_after_the_interval_has_passed_go_out_with_what_was_held()
    {
        var target = new CountingWriter();
        var paced = new PacedTextWriter(target, TimeSpan.FromMilliseconds(30));
        paced.Write("a");
        paced.Write("b");
        Thread.Sleep(60);
        paced.Write("c");
        Assert.Equal("abc", target.ToString());
        Assert.Equal(2, target.Writes);
    }
}
