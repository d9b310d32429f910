using System.Text;
using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// A Hugging Face BPE tokenizer (GPT-2 byte-level or Llama SentencePiece-style with byte fallback) running on
/// Microsoft.ML.Tokenizers, with encoding and decoding that match HF tokenizers' results.
/// </summary>
public sealed class TextTokenizer : ITokenizer
{
    private readonly EncodingPipeline _pipeline;
    private readonly TokenDecoder _decoder;
    private readonly string?[] _idToToken;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly int[] _prefix;
    private readonly int[] _suffix;

    /// <summary>The library tokenizer doing the BPE work (added tokens and byte fallback are handled around it).</summary>
    public Tokenizer Inner { get; }

    /// <summary>The file the tokenizer was loaded from.</summary>
    public string Source { get; }

    /// <summary>Number of token ids, added and special tokens included (largest id + 1).</summary>
    public int VocabSize => _idToToken.Length;

    /// <summary>The special-token ids.</summary>
    public SpecialTokens Special { get; }

    /// <summary>Whether <see cref="Encode"/> prepends the beginning-of-sequence token when asked for special tokens.</summary>
    public bool AddBosToken { get; }

    /// <summary>Whether <see cref="Encode"/> appends the end-of-sequence token when asked for special tokens.</summary>
    public bool AddEosToken { get; }

    private TextTokenizer(TokenizerDefinition definition, SpecialTokenConfig config)
    {
        Source = definition.Source;
        _decoder = definition.Decoder;

        var added = definition.AddedTokens.ToList();
        foreach (var extra in config.AddedTokens)
            if (!added.Exists(t => t.Id == extra.Id)) added.Add(extra);

        int size = 0;
        foreach (var (_, id) in definition.Vocab) size = Math.Max(size, id + 1);
        foreach (var t in added) size = Math.Max(size, t.Id + 1);
        // A corrupt id would otherwise allocate a table of billions of entries.
        if (size > 4 * (definition.Vocab.Count + added.Count) + 1024)
            throw new ModelLoadException(Source, $"token ids are implausibly sparse: the largest id is {size - 1} for {definition.Vocab.Count + added.Count} tokens.");
        _idToToken = new string?[size];
        _tokenToId = new Dictionary<string, int>(definition.Vocab.Count + added.Count, StringComparer.Ordinal);
        foreach (var (token, id) in definition.Vocab)
        {
            _idToToken[id] = token;
            _tokenToId[token] = id;
        }
        // HF looks added tokens up before the model's vocabulary.
        foreach (var t in added)
        {
            _idToToken[t.Id] = t.Content;
            _tokenToId[t.Content] = t.Id;
        }

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(definition.Vocab)
            {
                Merges = definition.Merges,
                UnknownToken = definition.UnkToken,
                FuseUnknownTokens = definition.FuseUnk || definition.ByteFallback,
                ContinuingSubwordPrefix = definition.ContinuingSubwordPrefix,
                EndOfWordSuffix = definition.EndOfWordSuffix,
                ByteLevel = definition.ByteLevel,
                Normalizer = definition.Normalizer,
                PreTokenizer = definition.PreTokenizer,
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new ModelLoadException(Source, $"the BPE vocabulary and merges were rejected by Microsoft.ML.Tokenizers: {e.Message}", e);
        }
        Inner = bpe;
        _pipeline = new EncodingPipeline(bpe, definition, added, TokenToId);

        int? unk = (config.Unk ?? definition.UnkToken) is { } u ? TokenToId(u) : null;
        int? eosFromSpelling = config.Eos is { } e2 ? TokenToId(e2) : null;
        int? bos = (config.Bos is { } b ? TokenToId(b) : null) ?? config.BosId;
        int? eos = eosFromSpelling ?? (config.EosIds.Count > 0 ? config.EosIds[0] : null);
        int? pad = (config.Pad is { } p ? TokenToId(p) : null) ?? config.PadId;
        var specialIds = new HashSet<int>(added.Where(t => t.Special).Select(t => t.Id));
        foreach (var id in new[] { unk, bos, eos, pad }) if (id is int i) specialIds.Add(i);
        // A model config may list several end ids (chat models); all of them are special when they name the role.
        if (eosFromSpelling is null) specialIds.UnionWith(config.EosIds);
        Special = new SpecialTokens(bos, eos, pad, unk, specialIds);

        // transformers rebuilds the post-processor from add_bos_token/add_eos_token when the config has them.
        _prefix = config.AddBos is bool addBos ? (addBos && bos is int bi ? [bi] : []) : [.. definition.TemplatePrefix ?? []];
        _suffix = config.AddEos is bool addEos ? (addEos && eos is int ei ? [ei] : []) : [.. definition.TemplateSuffix ?? []];
        AddBosToken = _prefix.Length > 0;
        AddEosToken = _suffix.Length > 0;
    }

    /// <summary>
    /// Loads a folder (tokenizer.json, else vocab.json + merges.txt) or a tokenizer.json file, with special tokens from
    /// tokenizer_config.json, special_tokens_map.json, config.json or genai_config.json beside it.
    /// </summary>
    /// <exception cref="ModelLoadException">A file is missing, malformed or of an unsupported kind; the message says which and why.</exception>
    public static TextTokenizer Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        if (File.Exists(full) && name is "vocab.json" or "merges.txt")
            return LoadPair(Path.GetDirectoryName(full)!);
        if (File.Exists(full))
            return new TextTokenizer(TokenizerJsonReader.Read(full), SpecialTokenConfig.Read(Path.GetDirectoryName(full)!));
        if (!Directory.Exists(full))
            throw new ModelLoadException(full, "no such tokenizer file or folder.");

        string json = Path.Combine(full, "tokenizer.json");
        if (File.Exists(json)) return new TextTokenizer(TokenizerJsonReader.Read(json), SpecialTokenConfig.Read(full));

        return LoadPair(full);
    }

    private static TextTokenizer LoadPair(string folder)
    {
        string vocab = Path.Combine(folder, "vocab.json"), merges = Path.Combine(folder, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges))
        {
            var config = SpecialTokenConfig.Read(folder);
            return new TextTokenizer(VocabMergesReader.Read(vocab, merges, config.AddPrefixSpace ?? false), config);
        }
        string found = File.Exists(vocab) ? "vocab.json is there but merges.txt is missing"
            : File.Exists(merges) ? "merges.txt is there but vocab.json is missing" : "neither is there";
        throw new ModelLoadException(folder, $"no tokenizer found: the folder has no tokenizer.json and no vocab.json + merges.txt pair ({found}).");
    }

    /// <summary>Encodes text; with <paramref name="addSpecialTokens"/> the BOS (and EOS where configured) tokens are added.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(_prefix);
        _pipeline.Encode(text, ids);
        if (addSpecialTokens) ids.AddRange(_suffix);
        return [.. ids];
    }

    /// <summary>Decodes ids to text as HF's decoder would; ids outside the vocabulary are ignored, as HF does.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var state = _decoder.Start();
        var text = new StringBuilder(ids.Length * 4);
        foreach (int id in ids)
            if (TokenForDecoding(id, skipSpecialTokens) is { } token) state.Push(token, text);
        state.Flush(text);
        return text.ToString();
    }

    /// <summary>Starts an incremental decoder whose pieces concatenate to exactly what <see cref="Decode"/> returns.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    /// <inheritdoc />
    IStreamingDetokenizer ITokenizer.CreateStreamingDetokenizer(bool skipSpecialTokens) => CreateStreamingDetokenizer(skipSpecialTokens);

    /// <summary>The token string of <paramref name="id"/>, or null when the id is not in the vocabulary.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>The id of an exact token string (vocabulary or added token), or null.</summary>
    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    internal DecodeState StartDecoding() => _decoder.Start();

    internal string? TokenForDecoding(int id, bool skipSpecialTokens) =>
        skipSpecialTokens && Special.AllSpecialIds.Contains(id) ? null : IdToToken(id);
}
