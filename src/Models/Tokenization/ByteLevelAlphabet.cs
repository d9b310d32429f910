namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode table: printable bytes map to themselves and the rest to U+0100 onwards,
/// so every byte has a visible character in vocab.json (space is 'Ġ', newline 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Byte value of each mapped character, -1 for characters outside the alphabet.</summary>
    private static readonly short[] CharToByte = Build(out ByteToCharTable);

    private static readonly char[] ByteToCharTable;

    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>Appends the bytes a byte-level token stands for; false (nothing appended) when a character is outside the alphabet.</summary>
    public static bool TryGetBytes(string token, List<byte> into)
    {
        int start = into.Count;
        foreach (char c in token)
        {
            int b = c < CharToByte.Length ? CharToByte[c] : -1;
            if (b < 0)
            {
                into.RemoveRange(start, into.Count - start);
                return false;
            }
            into.Add((byte)b);
        }
        return true;
    }

    private static short[] Build(out char[] byteToChar)
    {
        byteToChar = new char[256];
        var charToByte = new short[512];
        Array.Fill(charToByte, (short)-1);
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char)b : (char)(256 + next++);
            byteToChar[b] = c;
            charToByte[c] = (short)b;
        }
        return charToByte;
    }
}
