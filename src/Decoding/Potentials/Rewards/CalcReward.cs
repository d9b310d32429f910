using System.Numerics;
using System.Text.RegularExpressions;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// A calculator check for arithmetic word problems: every equation "a op b = c" in the response (op one of + − * /,
/// a and b non-negative integers, c an integer, spaces allowed around op and =) is recomputed, and the reward is
/// −(number of wrong equations), so 0 means "no arithmetic slip". Division is right only when exact (a = b·c, b ≠ 0),
/// as in the arith task. The prefix form counts the wrong equations that are complete, i.e. whose c is followed by a
/// non-digit; it only falls, so it is exact for the equations it has seen.
/// It is an imperfect proxy for correctness: it cannot see a wrong operand (copying the wrong number from the question
/// and computing with it correctly scores 0), a missing step or a wrong final answer.
/// </summary>
public sealed partial class CalcReward : TextReward
{
    // Characters an equation is made of: a match never spans any other character.
    private const string EquationChars = "0123456789 +-*/=";

    /// <summary>Creates the reward, named <c>calc</c>.</summary>
    public CalcReward() : base("calc") { }

    [GeneratedRegex(@"([0-9]+) *([-+*/]) *([0-9]+) *= *(-?[0-9]+)", RegexOptions.CultureInvariant)]
    private static partial Regex Equation();

    /// <inheritdoc />
    public override float Score(string prompt, string response) => -Wrong(response, requireComplete: false);

    /// <inheritdoc />
    public override bool ScoresPrefixes => true;

    /// <inheritdoc />
    public override float ScorePrefix(string prompt, string prefix) => -Wrong(prefix, requireComplete: true);

    /// <summary>
    /// Scores the part of <paramref name="prefix"/> that no extension can change once, then only its trailing run of
    /// equation characters with each extension: a few characters instead of the whole text per token.
    /// </summary>
    public override void ScoreExtensions(string prompt, string prefix, ReadOnlySpan<string> extensions, Span<float> scores)
    {
        if (scores.Length != extensions.Length) throw new ArgumentException($"Expected {extensions.Length} score slots, got {scores.Length}.", nameof(scores));
        var tail = prefix.Length;
        while (tail > 0 && EquationChars.Contains(prefix[tail - 1])) tail--;
        // Equations before the tail end at or before a character no equation contains, so they are complete.
        var head = -Wrong(prefix[..tail], requireComplete: true);
        var rest = prefix[tail..];
        for (var i = 0; i < extensions.Length; i++) scores[i] = head - Wrong(string.Concat(rest, extensions[i]), requireComplete: true);
    }

    /// <summary>Number of wrong equations in <paramref name="text"/>; with <paramref name="requireComplete"/>, only those followed by a non-digit.</summary>
    public static int Wrong(string text, bool requireComplete)
    {
        var wrong = 0;
        for (var m = Equation().Match(text); m.Success; m = m.NextMatch())
        {
            var end = m.Index + m.Length;
            if (requireComplete && end == text.Length) continue;
            if (!IsRight(m.Groups[1].ValueSpan, m.Groups[2].ValueSpan[0], m.Groups[3].ValueSpan, m.Groups[4].ValueSpan)) wrong++;
        }
        return wrong;
    }

    private static bool IsRight(ReadOnlySpan<char> a, char op, ReadOnlySpan<char> b, ReadOnlySpan<char> c)
    {
        var x = BigInteger.Parse(a, provider: System.Globalization.CultureInfo.InvariantCulture);
        var y = BigInteger.Parse(b, provider: System.Globalization.CultureInfo.InvariantCulture);
        var z = BigInteger.Parse(c, provider: System.Globalization.CultureInfo.InvariantCulture);
        return op switch
        {
            '+' => x + y == z,
            '-' => x - y == z,
            '*' => x * y == z,
            _ => !y.IsZero && y * z == x,
        };
    }
}
