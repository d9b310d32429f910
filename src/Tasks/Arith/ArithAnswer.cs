using System.Text.RegularExpressions;

namespace DecodeAlign.Tasks.Arith;

/// <summary>
/// The arith checker's answer extraction: the first "The answer is N" in a response, N an optionally negative integer,
/// canonicalised (leading zeros dropped, "-0" read as "0") so that "014" and "14" vote together.
/// tools/forge/arith_check.py ports this regex; keep the two identical.
/// </summary>
public static partial class ArithAnswer
{
    // The first statement counts: a model that goes on after committing to an answer does not get a second try.
    [GeneratedRegex(@"The answer is (-?)([0-9]+)", RegexOptions.CultureInvariant)]
    private static partial Regex AnswerPattern();

    /// <summary>The canonical integer answer stated in <paramref name="response"/>, or null when it states none.</summary>
    public static string? Extract(string response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var m = AnswerPattern().Match(response);
        if (!m.Success) return null;
        var digits = m.Groups[2].Value.TrimStart('0');
        if (digits.Length == 0) return "0";
        return m.Groups[1].Value + digits;
    }
}
