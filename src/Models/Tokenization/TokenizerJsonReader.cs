using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DecodeAlign.Models.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json (Microsoft.ML.Tokenizers 2.0.1 has no reader for it) into a
/// <see cref="TokenizerDefinition"/>: BPE vocab and merges, added tokens, and the normalizer, pre-tokenizer,
/// decoder and post-processor settings this project supports, mapped onto library classes where they exist.
/// Anything else is refused with the JSON path of the unsupported setting rather than tokenized wrongly.
/// </summary>
internal static class TokenizerJsonReader
{
    /// <summary>
    /// GPT-2's pre-tokenization pattern, as HF's ByteLevel pre-tokenizer uses it. .NET classifies UTF-16 code units,
    /// so letters and digits outside the BMP (rare CJK, mathematical letters) count as symbols here, unlike in Rust.
    /// </summary>
    public static readonly Regex Gpt2Pattern = new(
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>A run of "▁" and the word after it; see <see cref="NoPieceCrossesIntoASpaceRun"/>.</summary>
    private static readonly Regex SpaceRunWords = new("\u2581*[^\u2581]+|\u2581+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public static TokenizerDefinition Read(string path)
    {
        using var doc = JsonFields.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException(path, $"the top level must be a JSON object (a Hugging Face tokenizer.json), not {JsonFields.Describe(root.ValueKind)}.");
        var model = JsonFields.Required(root, "model", JsonValueKind.Object, path, "model");
        string type = JsonFields.String(model, "type", path, "model.type")
            ?? (JsonFields.Optional(model, "merges") is not null ? "BPE" : throw new ModelLoadException(path, "\"model.type\" is missing and the model has no merges, so it is not a BPE model."));
        if (type != "BPE")
            throw new ModelLoadException(path, $"model type \"{type}\" is not supported; only BPE models can be loaded (byte-level BPE like GPT-2, or SentencePiece-style BPE with byte fallback like Llama).");

        // HF's ignore_merges looks whole words up in the vocabulary before merging, which the library cannot do.
        if (JsonFields.Bool(model, "ignore_merges", false))
            throw new ModelLoadException(path, "\"model.ignore_merges\": true is not supported (it is used with Llama-3 style tokenizers; only GPT-2 and Llama-2 style BPE can be loaded).");
        // "dropout" is ignored: it only randomizes merges for training, and released tokenizers ship it null.
        var vocab = ReadVocab(JsonFields.Required(model, "vocab", JsonValueKind.Object, path, "model.vocab"), path);
        var merges = ReadMerges(JsonFields.Required(model, "merges", JsonValueKind.Array, path, "model.merges"), path);
        var (preTokenizer, rewriter, byteLevel) = ReadPreTokenizer(JsonFields.Optional(root, "pre_tokenizer"), path, "pre_tokenizer");
        var (prefix, suffix) = ReadPostProcessor(JsonFields.Optional(root, "post_processor"));
        if (preTokenizer is WholeTextPreTokenizer && !byteLevel && NoPieceCrossesIntoASpaceRun(vocab))
            preTokenizer = new RegexPreTokenizer(SpaceRunWords, null);

        return new TokenizerDefinition
        {
            Source = path,
            Vocab = vocab,
            Merges = merges,
            UnkToken = JsonFields.String(model, "unk_token", path, "model.unk_token"),
            ByteFallback = JsonFields.Bool(model, "byte_fallback", false),
            FuseUnk = JsonFields.Bool(model, "fuse_unk", false),
            ContinuingSubwordPrefix = NullIfEmpty(JsonFields.String(model, "continuing_subword_prefix", path, "model.continuing_subword_prefix")),
            EndOfWordSuffix = NullIfEmpty(JsonFields.String(model, "end_of_word_suffix", path, "model.end_of_word_suffix")),
            ByteLevel = byteLevel,
            Normalizer = ReadNormalizer(JsonFields.Optional(root, "normalizer"), path),
            PreTokenizer = preTokenizer,
            PieceRewriter = rewriter,
            Decoder = ReadDecoder(JsonFields.Optional(root, "decoder"), path),
            AddedTokens = ReadAddedTokens(JsonFields.Optional(root, "added_tokens"), path),
            TemplatePrefix = prefix,
            TemplateSuffix = suffix,
        };
    }

    /// <summary>
    /// HF runs BPE over the whole text when there is no pre-tokenizer, which the library does slowly on long texts.
    /// Every BPE symbol is a vocabulary piece, so when no piece has a "▁" right after another character, no merge can
    /// join a character to a following "▁" run, and cutting the text before each such run changes nothing but speed.
    /// </summary>
    private static bool NoPieceCrossesIntoASpaceRun(List<KeyValuePair<string, int>> vocab)
    {
        foreach (var (piece, _) in vocab)
            for (int i = 1; i < piece.Length; i++)
                if (piece[i] == '\u2581' && piece[i - 1] != '\u2581') return false;
        return true;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static List<KeyValuePair<string, int>> ReadVocab(JsonElement vocab, string path)
    {
        var list = new List<KeyValuePair<string, int>>();
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new ModelLoadException(path, $"\"model.vocab\" entry \"{entry.Name}\" must be a non-negative integer id, not {entry.Value.GetRawText()}.");
            list.Add(new(entry.Name, id));
        }
        if (list.Count == 0) throw new ModelLoadException(path, "\"model.vocab\" is empty.");
        return list;
    }

    /// <summary>Accepts both HF merge spellings: "a b" strings (older files) and ["a", "b"] pairs (tokenizers 0.20+).</summary>
    private static List<string> ReadMerges(JsonElement merges, string path)
    {
        var list = new List<string>(merges.GetArrayLength());
        int i = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                string s = merge.GetString()!;
                int space = s.IndexOf(' ');
                if (space <= 0 || space == s.Length - 1 || s.IndexOf(' ', space + 1) >= 0)
                    throw new ModelLoadException(path, $"\"model.merges[{i}]\" is \"{s}\"; a merge string must be two tokens separated by one space.");
                list.Add(s);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                     && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                string a = merge[0].GetString()!, b = merge[1].GetString()!;
                // The library keeps merges as space-separated pairs, so a token holding a space cannot be expressed.
                if (a.Length == 0 || b.Length == 0 || a.Contains(' ') || b.Contains(' '))
                    throw new ModelLoadException(path, $"\"model.merges[{i}]\" is [\"{a}\", \"{b}\"]; tokens that are empty or contain a space are not supported in merges.");
                list.Add(string.Concat(a, " ", b));
            }
            else
            {
                throw new ModelLoadException(path, $"\"model.merges[{i}]\" must be a \"left right\" string or a [\"left\", \"right\"] array, not {merge.GetRawText()}.");
            }
            i++;
        }
        return list;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement? added, string path)
    {
        var list = new List<AddedToken>();
        if (added is not { ValueKind: JsonValueKind.Array } array) return list;
        int i = 0;
        foreach (var t in array.EnumerateArray())
        {
            string where = $"added_tokens[{i++}]";
            if (!JsonFields.Required(t, "id", JsonValueKind.Number, path, where + ".id").TryGetInt32(out int id) || id < 0)
                throw new ModelLoadException(path, $"\"{where}.id\" must be a non-negative integer.");
            string content = JsonFields.Required(t, "content", JsonValueKind.String, path, where + ".content").GetString()!;
            bool special = JsonFields.Bool(t, "special", false);
            list.Add(new AddedToken(id, content, special, JsonFields.Bool(t, "normalized", !special),
                JsonFields.Bool(t, "lstrip", false), JsonFields.Bool(t, "rstrip", false), JsonFields.Bool(t, "single_word", false)));
        }
        return list;
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement element, string listName)
    {
        if (JsonFields.Optional(element, "type")?.GetString() == "Sequence" && JsonFields.Optional(element, listName) is { ValueKind: JsonValueKind.Array } items)
        {
            foreach (var item in items.EnumerateArray())
                foreach (var leaf in Flatten(item, listName)) yield return leaf;
        }
        else yield return element;
    }

    private static string TypeOf(JsonElement element, string path, string jsonPath) =>
        JsonFields.String(element, "type", path, jsonPath + ".type") ?? throw new ModelLoadException(path, $"\"{jsonPath}.type\" is missing.");

    private static Normalizer? ReadNormalizer(JsonElement? normalizer, string path)
    {
        if (normalizer is not { } n) return null;
        var steps = Flatten(n, "normalizers").ToList();
        // The Llama-2 layout is exactly SentencePiece's dummy prefix plus whitespace escaping: use the library's class.
        if (steps.Count == 2 && TypeOf(steps[0], path, "normalizer") == "Prepend" && JsonFields.Optional(steps[0], "prepend")?.GetString() == "\u2581"
            && TypeOf(steps[1], path, "normalizer") == "Replace" && ReplacePattern(steps[1], path, "normalizer") is (" ", null)
            && JsonFields.Optional(steps[1], "content")?.GetString() == "\u2581")
        {
            return new SentencePieceNormalizer(removeExtraWhiteSpaces: false, addDummyPrefix: true, escapeWhiteSpaces: true, treatWhitespaceAsSuffix: false, specialTokens: null);
        }
        var funcs = new List<Func<string, string>>();
        foreach (var step in steps)
        {
            string type = TypeOf(step, path, "normalizer");
            funcs.Add(type switch
            {
                "Prepend" => StepNormalizer.Prepend(JsonFields.Required(step, "prepend", JsonValueKind.String, path, "normalizer.prepend").GetString()!),
                "Replace" => ReplacePattern(step, path, "normalizer") is (string literal, _)
                    ? StepNormalizer.Replace(literal, ReplaceContent(step, path, "normalizer"))
                    : StepNormalizer.ReplaceRegex(ReplacePattern(step, path, "normalizer").Regex!, ReplaceContent(step, path, "normalizer")),
                "NFC" => StepNormalizer.Unicode(NormalizationForm.FormC),
                "NFD" => StepNormalizer.Unicode(NormalizationForm.FormD),
                "NFKC" => StepNormalizer.Unicode(NormalizationForm.FormKC),
                "NFKD" => StepNormalizer.Unicode(NormalizationForm.FormKD),
                "Lowercase" => StepNormalizer.Lowercase(),
                _ => throw new ModelLoadException(path, $"normalizer \"{type}\" is not supported (supported: Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase and Sequences of them)."),
            });
        }
        return new StepNormalizer(funcs);
    }

    private static (string? Literal, Regex? Regex) ReplacePattern(JsonElement step, string path, string where)
    {
        var pattern = JsonFields.Required(step, "pattern", JsonValueKind.Object, path, where + ".pattern");
        if (JsonFields.Optional(pattern, "String") is { ValueKind: JsonValueKind.String } s) return (s.GetString(), null);
        if (JsonFields.Optional(pattern, "Regex") is { ValueKind: JsonValueKind.String } r) return (null, new Regex(r.GetString()!, RegexOptions.CultureInvariant));
        throw new ModelLoadException(path, $"\"{where}.pattern\" must hold a \"String\" or a \"Regex\".");
    }

    private static string ReplaceContent(JsonElement step, string path, string where) =>
        JsonFields.Required(step, "content", JsonValueKind.String, path, where + ".content").GetString()!;

    private static (PreTokenizer, PieceRewriter?, bool ByteLevel) ReadPreTokenizer(JsonElement? preTokenizer, string path, string where)
    {
        if (preTokenizer is not { } p) return (WholeTextPreTokenizer.Instance, null, false);
        var steps = Flatten(p, "pretokenizers").ToList();
        if (steps.Count != 1)
            throw new ModelLoadException(path, $"a \"{where}\" Sequence of {steps.Count} pre-tokenizers ({string.Join(", ", steps.Select(s => TypeOf(s, path, where)))}) is not supported; use a single ByteLevel or Metaspace pre-tokenizer.");
        var step = steps[0];
        string type = TypeOf(step, path, where);
        switch (type)
        {
            case "ByteLevel":
                {
                    bool useRegex = JsonFields.Bool(step, "use_regex", true);
                    bool addPrefixSpace = JsonFields.Bool(step, "add_prefix_space", true);
                    return (useRegex ? new RegexPreTokenizer(Gpt2Pattern, null) : WholeTextPreTokenizer.Instance,
                        addPrefixSpace ? PieceRewriters.AddPrefixSpace() : null, true);
                }
            case "Metaspace":
                {
                    string replacement = JsonFields.String(step, "replacement", path, where + ".replacement") ?? "\u2581";
                    var prepend = ReadPrependScheme(step, path, where);
                    bool split = JsonFields.Bool(step, "split", true);
                    // HF splits before each replacement character, which stays with the word that follows it.
                    var splitter = new RegexPreTokenizer(new Regex($"{Regex.Escape(replacement)}(?:(?!{Regex.Escape(replacement)}).)*|(?:(?!{Regex.Escape(replacement)}).)+", RegexOptions.Singleline | RegexOptions.CultureInvariant), null);
                    return (split ? splitter : WholeTextPreTokenizer.Instance, PieceRewriters.Metaspace(replacement, prepend), false);
                }
            default:
                throw new ModelLoadException(path, $"pre-tokenizer \"{type}\" at \"{where}\" is not supported (supported: none, ByteLevel, Metaspace).");
        }
    }

    private static MetaspacePrepend ReadPrependScheme(JsonElement step, string path, string where)
    {
        string? scheme = JsonFields.String(step, "prepend_scheme", path, where + ".prepend_scheme");
        return scheme switch
        {
            null => JsonFields.Bool(step, "add_prefix_space", true) ? MetaspacePrepend.Always : MetaspacePrepend.Never,
            "always" => MetaspacePrepend.Always,
            "first" => MetaspacePrepend.First,
            "never" => MetaspacePrepend.Never,
            _ => throw new ModelLoadException(path, $"\"{where}.prepend_scheme\" is \"{scheme}\"; expected always, first or never."),
        };
    }

    private static TokenDecoder ReadDecoder(JsonElement? decoder, string path)
    {
        if (decoder is not { } d) return new PieceTokenDecoder([], byteFallback: false, strip: null, stripOnce: false, joinWithSpace: true);
        var steps = Flatten(d, "decoders").ToList();
        if (steps.Count == 1 && TypeOf(steps[0], path, "decoder") == "ByteLevel") return new ByteLevelTokenDecoder();

        // HF applies the steps in order; this decoder supports them in the order SentencePiece conversions write them.
        var rewrites = new List<Func<string, int, string>>();
        bool byteFallback = false, fused = false;
        StripSpec? strip = null;
        int phase = 0;
        foreach (var step in steps)
        {
            string type = TypeOf(step, path, "decoder");
            int stepPhase = type switch { "Replace" or "Metaspace" => 0, "ByteFallback" => 1, "Fuse" => 2, "Strip" => 3, _ => -1 };
            if (stepPhase < 0)
                throw new ModelLoadException(path, $"decoder \"{type}\" is not supported (supported: ByteLevel alone, or a Sequence of Replace/Metaspace, ByteFallback, Fuse, Strip).");
            if (stepPhase < phase || (stepPhase == phase && stepPhase > 0))
                throw new ModelLoadException(path, $"decoder step \"{type}\" comes after a step it must precede; supported order is Replace/Metaspace, ByteFallback, Fuse, Strip.");
            phase = stepPhase;
            switch (type)
            {
                case "Replace":
                    {
                        string content = ReplaceContent(step, path, "decoder");
                        var (literal, regex) = ReplacePattern(step, path, "decoder");
                        rewrites.Add(literal is not null
                            ? (token, _) => token.Replace(literal, content, StringComparison.Ordinal)
                            : (token, _) => regex!.Replace(token, content));
                        break;
                    }
                case "Metaspace":
                    {
                        string replacement = JsonFields.String(step, "replacement", path, "decoder.replacement") ?? "\u2581";
                        bool dropFirst = ReadPrependScheme(step, path, "decoder") != MetaspacePrepend.Never;
                        // HF drops the replacement characters of the first token and turns all others into spaces.
                        rewrites.Add((token, index) => token.Replace(replacement, index == 0 && dropFirst ? "" : " ", StringComparison.Ordinal));
                        break;
                    }
                case "ByteFallback": byteFallback = true; break;
                case "Fuse": fused = true; break;
                case "Strip":
                    {
                        string content = JsonFields.Required(step, "content", JsonValueKind.String, path, "decoder.content").GetString()!;
                        if (content.Length != 1) throw new ModelLoadException(path, $"\"decoder.content\" of Strip must be one character, not \"{content}\".");
                        strip = new StripSpec(content[0], JsonFields.Int(step, "start", 0), JsonFields.Int(step, "stop", 0));
                        break;
                    }
            }
        }
        return new PieceTokenDecoder(rewrites, byteFallback, strip, stripOnce: fused);
    }

    private static (IReadOnlyList<int>? Prefix, IReadOnlyList<int>? Suffix) ReadPostProcessor(JsonElement? postProcessor)
    {
        if (postProcessor is not { } p) return (null, null);
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool known = false;
        foreach (var step in Flatten(p, "processors"))
        {
            switch (JsonFields.Optional(step, "type")?.GetString())
            {
                case "ByteLevel": known = true; break;
                case "TemplateProcessing" when JsonFields.Optional(step, "single") is { ValueKind: JsonValueKind.Array } single:
                    {
                        known = true;
                        var specials = JsonFields.Optional(step, "special_tokens");
                        bool afterSequence = false;
                        foreach (var item in single.EnumerateArray())
                        {
                            if (JsonFields.Optional(item, "Sequence") is not null) { afterSequence = true; continue; }
                            if (JsonFields.Optional(item, "SpecialToken") is not { } special) continue;
                            string? name = JsonFields.Optional(special, "id")?.GetString();
                            if (name is null || specials is not { } map || JsonFields.Optional(map, name) is not { } entry
                                || JsonFields.Optional(entry, "ids") is not { ValueKind: JsonValueKind.Array } ids) continue;
                            foreach (var id in ids.EnumerateArray())
                                if (id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int value)) (afterSequence ? suffix : prefix).Add(value);
                        }
                        break;
                    }
                case "RobertaProcessing" or "BertProcessing":
                    {
                        known = true;
                        if (JsonFields.Optional(step, "cls") is { ValueKind: JsonValueKind.Array } cls && cls.GetArrayLength() == 2 && cls[1].TryGetInt32(out int clsId)) prefix.Add(clsId);
                        if (JsonFields.Optional(step, "sep") is { ValueKind: JsonValueKind.Array } sep && sep.GetArrayLength() == 2 && sep[1].TryGetInt32(out int sepId)) suffix.Add(sepId);
                        break;
                    }
            }
        }
        return known ? (prefix, suffix) : (null, null);
    }
}
