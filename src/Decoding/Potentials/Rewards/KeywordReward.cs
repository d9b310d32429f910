using System.Text.RegularExpressions;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// A keyword constraint on the response, 1 when it holds and 0 otherwise: a required word (ordinal, case-sensitive
/// substring), a forbidden word, or a regular expression that must match. Spelled <c>WORD</c>, <c>!WORD</c> and
/// <c>/REGEX/</c> by <see cref="Parse"/>. A negative weight turns "required" into "avoid".
/// Prefix forms: a required word scores 1 once present (it stays present), a forbidden word 0 once present (1 while
/// it can still be avoided), a regex is tested on the prefix as it is (not monotone in general). A regex match that
/// takes over a second counts as no match.
/// </summary>
public sealed class KeywordReward : TextReward
{
    private readonly string? _word;
    private readonly bool _forbidden;
    private readonly Regex? _regex;

    private KeywordReward(string name, string? word, bool forbidden, Regex? regex) : base(name)
    {
        _word = word;
        _forbidden = forbidden;
        _regex = regex;
    }

    /// <summary>1 when the response contains <paramref name="word"/>.</summary>
    public static KeywordReward Required(string word) => new($"keyword:{CheckWord(word)}", word, forbidden: false, regex: null);

    /// <summary>1 when the response does not contain <paramref name="word"/>.</summary>
    public static KeywordReward Forbidden(string word) => new($"keyword:!{CheckWord(word)}", word, forbidden: true, regex: null);

    /// <summary>1 when <paramref name="regex"/> matches somewhere in the response.</summary>
    public static KeywordReward Matching(Regex regex)
    {
        ArgumentNullException.ThrowIfNull(regex);
        return new($"keyword:/{regex}/", null, forbidden: false, regex);
    }

    /// <summary>
    /// Parses <c>WORD</c> (required), <c>!WORD</c> (forbidden) or <c>/REGEX/</c> (.NET syntax, culture-invariant);
    /// throws <see cref="ArgumentException"/> for an empty word or an invalid regex.
    /// </summary>
    public static KeywordReward Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Length >= 2 && spec[0] == '/' && spec[^1] == '/')
        {
            try
            {
                // A timeout bounds catastrophic backtracking: the regex runs on every candidate token.
                return Matching(new Regex(spec[1..^1], RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"invalid regex {spec}: {e.Message}", nameof(spec), e);
            }
        }
        return spec.StartsWith('!') ? Forbidden(spec[1..]) : Required(spec);
    }

    private static string CheckWord(string word) =>
        string.IsNullOrEmpty(word) ? throw new ArgumentException("a keyword needs a non-empty word", nameof(word)) : word;

    /// <inheritdoc />
    public override float Score(string prompt, string response) => Holds(response) ? 1f : 0f;

    /// <inheritdoc />
    public override bool ScoresPrefixes => true;

    /// <inheritdoc />
    public override float ScorePrefix(string prompt, string prefix) => Holds(prefix) ? 1f : 0f;

    /// <summary>For words, looks only at the prefix's last |word| − 1 characters joined to each extension.</summary>
    public override void ScoreExtensions(string prompt, string prefix, ReadOnlySpan<string> extensions, Span<float> scores)
    {
        if (_word is null)
        {
            base.ScoreExtensions(prompt, prefix, extensions, scores);
            return;
        }
        if (scores.Length != extensions.Length) throw new ArgumentException($"Expected {extensions.Length} score slots, got {scores.Length}.", nameof(scores));
        if (prefix.Contains(_word, StringComparison.Ordinal))
        {
            scores.Fill(_forbidden ? 0f : 1f);
            return;
        }
        // A new occurrence must end inside the extension, so it starts at most |word| − 1 characters back.
        var tail = prefix[Math.Max(0, prefix.Length - (_word.Length - 1))..];
        for (var i = 0; i < extensions.Length; i++)
            scores[i] = string.Concat(tail, extensions[i]).Contains(_word, StringComparison.Ordinal) != _forbidden ? 1f : 0f;
    }

    private bool Holds(string text)
    {
        if (_regex is null) return text.Contains(_word!, StringComparison.Ordinal) != _forbidden;
        try
        {
            return _regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false; // documented: a match that takes over a second counts as none
        }
    }
}
