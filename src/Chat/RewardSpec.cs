using System.Globalization;
using DecodeAlign.Decoding;
using DecodeAlign.Decoding.Rewards;
using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;
using DecodeAlign.Models.Rewards;

namespace DecodeAlign.Chat;

/// <summary>
/// The <c>--reward SPEC</c> of generate and eval: comma-separated <c>name[=weight]</c> terms whose weighted sum is the
/// reward. A name is a built-in reward (see <see cref="Names"/>) or a reward model folder. Parsed and checked before
/// any model loads, so every mistake is one error line naming its term.
/// </summary>
/// <param name="Text">The SPEC as given.</param>
/// <param name="Terms">Its terms, in order.</param>
public sealed record RewardSpec(string Text, IReadOnlyList<RewardSpec.Term> Terms)
{
    /// <summary>What a term names.</summary>
    public enum Kind
    {
        /// <summary>A reward model folder (built-in <c>verifier</c> or <c>likelihood</c>, or a path).</summary>
        Model,

        /// <summary><see cref="CalcReward"/>.</summary>
        Calc,

        /// <summary><see cref="JsonReward"/>.</summary>
        Json,

        /// <summary><see cref="LengthReward"/> with the limit in <see cref="Term.Argument"/>.</summary>
        Length,

        /// <summary><see cref="KeywordReward"/> with its spelling in <see cref="Term.Argument"/>.</summary>
        Keyword,
    }

    /// <summary>One term: its text as given, what it names, the argument (folder, limit or keyword) and its weight.</summary>
    /// <param name="Text">The term as written in the SPEC.</param>
    /// <param name="Kind">What it names.</param>
    /// <param name="Argument">The model folder (full path), the length limit or the keyword spelling.</param>
    /// <param name="Weight">Its weight (1 when not given).</param>
    public sealed record Term(string Text, Kind Kind, string Argument, float Weight);

    /// <summary>The built-in names, as listed in errors and in README's command-line section.</summary>
    public const string Names = "verifier, likelihood, calc, json, length:N, keyword:WORD (or keyword:!WORD, keyword:/REGEX/)";

    /// <summary>The --reward option's help text, shared by generate and eval.</summary>
    public const string OptionDescription = "Reward SPEC: comma-separated name[=weight] terms summed as Σ w·R; a name is " + Names
        + " or a reward model folder. Default: verifier with the built-in LM.";

    /// <summary>The learned built-in rewards: model folders under models/arith.</summary>
    public static readonly string[] BuiltinModels = ["verifier", "likelihood"];

    /// <summary>True when the SPEC is one reward model at weight 1, which runs as it is, without a composite around it.</summary>
    public bool IsSingleModel => Terms is [{ Kind: Kind.Model, Weight: 1f }];

    /// <summary>
    /// Parses <paramref name="spec"/>; <paramref name="builtinFolder"/> maps a built-in model name to its folder.
    /// Throws <see cref="RewardSpecException"/> naming the term for an unknown name, a bad weight or length, an invalid
    /// keyword or regex, or a model folder that does not exist.
    /// </summary>
    public static RewardSpec Parse(string spec, Func<string, string> builtinFolder)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw Error($"the SPEC is empty; give comma-separated name[=weight] terms ({Names}, or a model folder).");
        // A folder whose name holds ',' or '=' is still one term when it is the whole SPEC.
        if (!IsBuiltinName(spec) && Directory.Exists(spec)) return new RewardSpec(spec, [new Term(spec, Kind.Model, Path.GetFullPath(spec), 1f)]);
        var terms = Split(spec).Select(t => ParseTerm(t, spec, builtinFolder)).ToArray();
        return new RewardSpec(spec, terms);
    }

    /// <summary>
    /// Loads the reward the SPEC names for <paramref name="lm"/>: one model at weight 1 as it is, anything else as a
    /// <see cref="CompositeReward"/>; model folders must score the LM's tokens.
    /// </summary>
    public LoadedReward Load(LanguageModel lm, OnnxModelOptions? onnx = null)
    {
        var owned = new List<IDisposable>();
        try
        {
            var terms = Terms.Select(t => new WeightedReward(LoadTerm(t, lm, onnx ?? OnnxModelOptions.Default, owned), t.Weight)).ToArray();
            if (IsSingleModel) return new LoadedReward(this, terms[0].Reward, (IPrefixScorer)terms[0].Reward, owned);
            var composite = new CompositeReward(terms, lm);
            owned.Add(composite);
            return new LoadedReward(this, composite, composite, owned);
        }
        catch
        {
            foreach (var d in owned) d.Dispose();
            throw;
        }
    }

    private static IRewardModel LoadTerm(Term term, LanguageModel lm, OnnxModelOptions onnx, List<IDisposable> owned)
    {
        switch (term.Kind)
        {
            case Kind.Model:
                var model = ModelLoader.LoadPrefixScorer(term.Argument, new RewardModelOptions { Onnx = onnx });
                owned.Add(model);
                if (model.Info.VocabSize != lm.Lm.Info.VocabSize)
                    throw new VocabularyMismatchException(model.Info.Source, model.Info.VocabSize, lm.Lm.Info.Source, lm.Lm.Info.VocabSize);
                return (IRewardModel)model;
            case Kind.Calc:
                return new CalcReward();
            case Kind.Json:
                return new JsonReward();
            case Kind.Length:
                return new LengthReward(int.Parse(term.Argument, CultureInfo.InvariantCulture), lm.Tokenizer);
            default:
                return KeywordReward.Parse(term.Argument);
        }
    }

    /// <summary>Splits at commas, except inside a <c>keyword:/REGEX/</c> (where '/' is written '\/').</summary>
    private static List<string> Split(string spec)
    {
        var terms = new List<string>();
        for (var start = 0; ;)
        {
            var i = start;
            while (i < spec.Length && char.IsWhiteSpace(spec[i])) i++;
            if (spec.AsSpan(i).StartsWith("keyword:/", StringComparison.Ordinal))
            {
                i += "keyword:/".Length;
                while (i < spec.Length && spec[i] != '/') i += spec[i] == '\\' ? 2 : 1;
                if (i >= spec.Length) throw Error($"term '{spec[start..].Trim()}': the regex has no closing '/'.");
            }
            var comma = spec.IndexOf(',', i);
            terms.Add(spec[start..(comma < 0 ? spec.Length : comma)].Trim());
            if (comma < 0) return terms;
            start = comma + 1;
        }
    }

    private static Term ParseTerm(string text, string spec, Func<string, string> builtinFolder)
    {
        if (text.Length == 0) throw Error($"empty term in '{spec}' (terms are separated by single commas).");
        if (!IsBuiltinName(text) && Directory.Exists(text)) return new Term(text, Kind.Model, Path.GetFullPath(text), 1f);
        // The weight follows the last '=', after the regex of a keyword:/REGEX/ term.
        var regexEnd = text.StartsWith("keyword:/", StringComparison.Ordinal) ? text.LastIndexOf('/') : -1;
        var eq = text.LastIndexOf('=');
        var (name, weightText) = eq > regexEnd ? (text[..eq].Trim(), text[(eq + 1)..].Trim()) : (text, null);
        if (regexEnd > 0 && regexEnd < text.Length - 1 && eq <= regexEnd)
            throw Error($"term '{text}': unexpected '{text[(regexEnd + 1)..]}' after the regex (write '/' inside it as '\\/').");
        var (kind, argument) = Resolve(name, text, builtinFolder);
        var weight = 1f;
        if (weightText is not null)
        {
            if (!float.TryParse(weightText, NumberStyles.Float, CultureInfo.InvariantCulture, out weight))
                throw Error($"term '{text}': the weight '{weightText}' is not a number.");
            if (!float.IsFinite(weight)) throw Error($"term '{text}': the weight must be finite (got {weightText}).");
            if (weight < 0 && kind != Kind.Keyword)
                throw Error($"term '{text}': a negative weight is meaningful only for keyword rewards (higher is better for every other reward; got {weightText}).");
        }
        return new Term(text, kind, argument, weight);
    }

    private static (Kind Kind, string Argument) Resolve(string name, string term, Func<string, string> builtinFolder)
    {
        if (BuiltinModels.Contains(name))
        {
            var folder = builtinFolder(name);
            return Directory.Exists(folder) ? (Kind.Model, folder) : throw Error($"term '{term}': the built-in reward model folder {folder} does not exist.");
        }
        if (name == "calc") return (Kind.Calc, "");
        if (name == "json") return (Kind.Json, "");
        if (name.StartsWith("length:", StringComparison.Ordinal))
        {
            var n = name["length:".Length..];
            return int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out _)
                ? (Kind.Length, n)
                : throw Error($"term '{term}': length:N needs a whole number N >= 0 of tokens (got '{n}').");
        }
        if (name.StartsWith("keyword:", StringComparison.Ordinal))
        {
            var keyword = name["keyword:".Length..];
            try
            {
                KeywordReward.Parse(keyword);
            }
            catch (ArgumentException e)
            {
                throw Error($"term '{term}': {FirstSentence(e.Message)}.");
            }
            return (Kind.Keyword, keyword);
        }
        if (name.IndexOfAny(['/', '\\']) >= 0 || name.StartsWith('.') || Directory.Exists(name))
        {
            return Directory.Exists(name) || File.Exists(name)
                ? (Kind.Model, Path.GetFullPath(name))
                : throw Error($"term '{term}': no such reward model folder {Path.GetFullPath(name)}.");
        }
        throw Error($"unknown reward '{name}' in term '{term}'; the built-in rewards are {Names}, and anything else must be a model folder.");
    }

    /// <summary>Built-in names win over folders of the same name in the working directory.</summary>
    private static bool IsBuiltinName(string name) => BuiltinModels.Contains(name) || name is "calc" or "json"
        || name.StartsWith("length:", StringComparison.Ordinal) || name.StartsWith("keyword:", StringComparison.Ordinal);

    /// <summary>Exception messages end with "(Parameter 'x')"; the error line keeps what the user can act on.</summary>
    private static string FirstSentence(string message) => message.Split(" (Parameter", 2)[0].TrimEnd('.');

    private static RewardSpecException Error(string message) => new($"--reward: {message}");
}

/// <summary>A reward SPEC that cannot be parsed or names something that does not exist; the message names the term.</summary>
public sealed class RewardSpecException(string message) : ArgumentException(message);
