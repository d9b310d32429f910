using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Tokenization;

namespace DecodeAlign.Decoding;

/// <summary>
/// A causal LM with its tokenizer, checked to belong together, and the special tokens decoding needs
/// (ONNX Runtime GenAI's "model + tokenizer" pair).
/// </summary>
public sealed class LanguageModel : IDisposable
{
    /// <summary>Pairs <paramref name="lm"/> with <paramref name="tokenizer"/>; throws when the vocabularies disagree.</summary>
    public LanguageModel(ICausalLm lm, ITokenizer tokenizer)
    {
        if (tokenizer.VocabSize > lm.Info.VocabSize)
            throw new VocabularyMismatchException(tokenizer.Source, tokenizer.VocabSize, lm.Info.Source, lm.Info.VocabSize);
        Lm = lm;
        Tokenizer = tokenizer;
        var eos = new SortedSet<int>(lm.Info.EosTokenIds.Where(id => id >= 0 && id < lm.Info.VocabSize));
        if (tokenizer.Special.Eos is int e) eos.Add(e);
        EosTokenIds = [.. eos];
        BosTokenId = tokenizer.Special.Bos ?? lm.Info.BosTokenId;
    }

    /// <summary>Loads the model (through <see cref="ModelLoader"/>) and the tokenizer found in the same folder.</summary>
    public static LanguageModel Load(string folder, OnnxModelOptions? options = null)
    {
        var lm = ModelLoader.LoadCausalLm(folder, options);
        try
        {
            var dir = Directory.Exists(folder) ? folder : Path.GetDirectoryName(Path.GetFullPath(folder))!;
            return new LanguageModel(lm, TextTokenizer.Load(dir));
        }
        catch
        {
            lm.Dispose();
            throw;
        }
    }

    /// <summary>The decoder producing next-token logits.</summary>
    public ICausalLm Lm { get; }

    /// <summary>The tokenizer that produced the model's vocabulary.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Tokens that end a response: the model config's EOS ids and the tokenizer's EOS.</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>The token an empty prompt starts from, if the model has one.</summary>
    public int? BosTokenId { get; }

    /// <summary>
    /// Encodes a prompt with the tokenizer's special tokens (BOS where it adds one); an empty prompt becomes BOS
    /// alone. Throws when nothing can start the sequence or the prompt leaves no room to generate.
    /// </summary>
    public int[] EncodePrompt(string text)
    {
        var ids = text.Length == 0 ? [] : Tokenizer.Encode(text, addSpecialTokens: true);
        if (ids.Length == 0 || (text.Length == 0 && Tokenizer.AddBosToken is false && BosTokenId is int))
            ids = BosTokenId is int bos ? [bos] : throw new ModelException($"The prompt is empty and neither {Tokenizer.Source} nor {Lm.Info.Source} defines a BOS token to start from.");
        if (ids.Length >= Lm.Info.ContextLength)
            throw new ContextLengthExceededException(ids.Length + 1, Lm.Info.ContextLength, "prompt plus one generated token");
        return ids;
    }

    /// <inheritdoc />
    public void Dispose() => Lm.Dispose();
}
