using System.Text;
using System.Text.Json;

namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// 1 when the response is one JSON value (System.Text.Json, surrounding whitespace allowed), else 0. The prefix form
/// is 1 while the prefix can still be completed to valid JSON (an upper bound on the final score that drops to 0 at
/// the first character no JSON document can continue with), so guided decoding steers away from dead ends.
/// </summary>
public sealed class JsonReward : TextReward
{
    /// <summary>Creates the reward, named <c>json</c>.</summary>
    public JsonReward() : base("json") { }

    /// <inheritdoc />
    public override float Score(string prompt, string response)
    {
        try
        {
            using var _ = JsonDocument.Parse(response);
            return 1f;
        }
        catch (JsonException)
        {
            return 0f;
        }
    }

    /// <inheritdoc />
    public override bool ScoresPrefixes => true;

    /// <inheritdoc />
    public override float ScorePrefix(string prompt, string prefix) => Resume(default, [], Encoding.UTF8.GetBytes(prefix), out _, out _) ? 1f : 0f;

    /// <summary>Reads the prefix once and resumes the reader's state with each extension.</summary>
    public override void ScoreExtensions(string prompt, string prefix, ReadOnlySpan<string> extensions, Span<float> scores)
    {
        if (scores.Length != extensions.Length) throw new ArgumentException($"Expected {extensions.Length} score slots, got {scores.Length}.", nameof(scores));
        if (!Resume(default, [], Encoding.UTF8.GetBytes(prefix), out var state, out var pending))
        {
            scores.Fill(0f);
            return;
        }
        for (var i = 0; i < extensions.Length; i++)
            scores[i] = Resume(state, pending, Encoding.UTF8.GetBytes(extensions[i]), out _, out _) ? 1f : 0f;
    }

    /// <summary>
    /// Continues a non-final read from <paramref name="state"/> over <paramref name="pending"/> (the bytes of an
    /// unfinished token) followed by <paramref name="bytes"/>; false when the text cannot be valid JSON any more.
    /// </summary>
    private static bool Resume(JsonReaderState state, byte[] pending, byte[] bytes, out JsonReaderState next, out byte[] left)
    {
        var data = pending.Length == 0 ? bytes : [.. pending, .. bytes];
        var reader = new Utf8JsonReader(data, isFinalBlock: false, state);
        try
        {
            while (reader.Read()) { }
        }
        catch (JsonException)
        {
            next = default;
            left = [];
            return false;
        }
        next = reader.CurrentState;
        left = data[(int)reader.BytesConsumed..];
        return true;
    }
}
