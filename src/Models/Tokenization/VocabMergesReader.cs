using System.Text.Json;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Reads the older GPT-2 file pair, vocab.json (token → id) and merges.txt (one "left right" pair per line, after an
/// optional "#version" line), as a byte-level BPE with GPT-2's pre-tokenization and decoder.
/// </summary>
internal static class VocabMergesReader
{
    public static TokenizerDefinition Read(string vocabPath, string mergesPath, bool addPrefixSpace)
    {
        var vocab = new List<KeyValuePair<string, int>>();
        using (var doc = JsonFields.Parse(vocabPath))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelLoadException(vocabPath, $"vocab.json must be a JSON object of token → id, not {JsonFields.Describe(doc.RootElement.ValueKind)}.");
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                    throw new ModelLoadException(vocabPath, $"entry \"{entry.Name}\" must be a non-negative integer id, not {entry.Value.GetRawText()}.");
                vocab.Add(new(entry.Name, id));
            }
        }
        if (vocab.Count == 0) throw new ModelLoadException(vocabPath, "the vocabulary is empty.");

        string[] lines;
        try { lines = File.ReadAllLines(mergesPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(mergesPath, $"cannot read the file: {e.Message}", e);
        }
        var merges = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || (i == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new ModelLoadException(mergesPath, $"line {i + 1} is \"{line}\"; each line must be two tokens separated by one space.");
            merges.Add(line);
        }

        return new TokenizerDefinition
        {
            Source = vocabPath,
            Vocab = vocab,
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new Microsoft.ML.Tokenizers.RegexPreTokenizer(TokenizerJsonReader.Gpt2Pattern, null),
            PieceRewriter = addPrefixSpace ? PieceRewriters.AddPrefixSpace() : null,
            Decoder = new ByteLevelTokenDecoder(),
        };
    }
}
