namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Turns generated ids into text one id at a time, returning only text that later ids cannot change; concatenating
/// every <see cref="Push"/> result and the <see cref="Flush"/> result gives exactly <see cref="ITokenizer.Decode"/>.
/// </summary>
public interface IStreamingDetokenizer
{
    /// <summary>Adds one id and returns the text it completes (often empty, sometimes more than one token's worth).</summary>
    string Push(int id);

    /// <summary>Ends the sequence and returns what was held back; the next <see cref="Push"/> starts a new sequence.</summary>
    string Flush();
}
