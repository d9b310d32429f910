namespace DecodeAlign.Decoding.Rewards;

/// <summary>
/// A reward given as C# functions of (prompt, response) and, optionally, (prompt, prefix). Without a prefix function
/// unfinished responses score 0 (no information), so only whole-response strategies are guided by it; pass the same
/// function twice to score prefixes as if they were finished.
/// </summary>
public sealed class FunctionReward : TextReward
{
    private readonly Func<string, string, float> _score;
    private readonly Func<string, string, float>? _scorePrefix;

    /// <summary>Wraps <paramref name="score"/> (and <paramref name="scorePrefix"/>, if given) under <paramref name="name"/>.</summary>
    public FunctionReward(string name, Func<string, string, float> score, Func<string, string, float>? scorePrefix = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(score);
        _score = score;
        _scorePrefix = scorePrefix;
    }

    /// <inheritdoc />
    public override float Score(string prompt, string response) => _score(prompt, response);

    /// <inheritdoc />
    public override bool ScoresPrefixes => _scorePrefix is not null;

    /// <inheritdoc />
    public override float ScorePrefix(string prompt, string prefix) => _scorePrefix?.Invoke(prompt, prefix) ?? 0f;
}
