using DecodeAlign.Models;

namespace DecodeAlign.Decoding.Engine;

/// <summary>
/// One row's response under the stop rules every generation loop shares: EOS (not kept), stop strings (cut from the
/// text), max new tokens and the room left in the context. Releases text for streaming only once it can no longer
/// become part of a stop string. Every strategy ends its responses through it, so the rules exist once.
/// </summary>
public sealed class ResponseTracker
{
    private static readonly IReadOnlySet<int> NoEos = new HashSet<int>();
    private readonly LanguageModel _model;
    private readonly int[] _prompt;
    private readonly GenerationOptions _options;
    private readonly int _contextLength;
    private readonly string _row;
    private readonly StopTextWatcher _watcher;
    private readonly int _budget;
    private readonly bool _contextLimited;
    private readonly Action<string>? _emit;

    /// <summary>Starts after <paramref name="prompt"/>; throws when the context has no room for one more token.</summary>
    /// <param name="model">The LM whose tokenizer decodes the response.</param>
    /// <param name="prompt">The prompt tokens (their text is not part of the response).</param>
    /// <param name="options">Max new tokens, stop strings.</param>
    /// <param name="contextLength">Tokens a row may hold (the smallest context of the models that follow it).</param>
    /// <param name="row">How error messages name the row.</param>
    /// <param name="emit">Receives text as it becomes final (streaming), or null.</param>
    public ResponseTracker(LanguageModel model, ReadOnlySpan<int> prompt, GenerationOptions options, int contextLength, string row, Action<string>? emit)
    {
        _model = model;
        _prompt = prompt.ToArray();
        _options = options;
        _contextLength = contextLength;
        _row = row;
        _watcher = new StopTextWatcher(model.Tokenizer, prompt, options.StopStrings);
        var room = contextLength - prompt.Length;
        if (room < 1) throw new ContextLengthExceededException(prompt.Length + 1, contextLength, $"{row} plus one generated token");
        _budget = Math.Min(options.MaxNewTokens, room);
        _contextLimited = room < options.MaxNewTokens;
        _emit = emit;
    }

    /// <summary>The response so far (final once <see cref="Done"/>).</summary>
    public GeneratedSequence Result { get; } = new();

    /// <summary>True once the response has ended.</summary>
    public bool Done { get; private set; }

    /// <summary>Adds a generated token; returns true when it ended the response.</summary>
    public bool Add(int token, IReadOnlySet<int> eos)
    {
        if (eos.Contains(token))
        {
            Finish(FinishReason.EndOfSequence);
            return true;
        }
        Result.Tokens.Add(token);
        if (_watcher.Push(token))
        {
            Finish(FinishReason.StopString);
            return true;
        }
        Release(final: false);
        if (Result.Tokens.Count < _budget) return false;
        Finish(_contextLimited ? FinishReason.ContextLength : FinishReason.MaxTokens);
        return true;
    }

    /// <summary>
    /// Adds tokens that were generated earlier (no EOS among them) as if drawn now; returns false when the response
    /// had already ended before the last of them.
    /// </summary>
    public bool Replay(ReadOnlySpan<int> tokens)
    {
        foreach (var token in tokens)
        {
            if (Done) return false;
            Add(token, NoEos);
        }
        return true;
    }

    /// <summary>An independent copy in the same state (a forked particle or candidate block), streaming to <paramref name="emit"/>.</summary>
    public ResponseTracker Fork(Action<string>? emit = null)
    {
        var copy = new ResponseTracker(_model, _prompt, _options, _contextLength, _row, emit);
        copy.Replay(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Result.Tokens));
        if (Done && !copy.Done) copy.Finish(Result.Finish);
        return copy;
    }

    /// <summary>Ends the response (text held back for the detokenizer may still complete a stop string).</summary>
    public void Finish(FinishReason reason)
    {
        if (reason != FinishReason.StopString && _watcher.Flush()) reason = FinishReason.StopString;
        Result.Finish = reason;
        Result.Text = _watcher.Text;
        Done = true;
        Release(final: true);
    }

    /// <summary>Ends the response as pruned, keeping its text so far without streaming it.</summary>
    public void Prune()
    {
        Result.Finish = FinishReason.Pruned;
        Result.Text = _watcher.Text;
        Done = true;
    }

    private void Release(bool final)
    {
        if (_emit is null) return;
        var delta = _watcher.TakeReleasable(final);
        if (delta.Length > 0) _emit(delta);
    }
}
