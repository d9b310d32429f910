using Microsoft.Extensions.AI;

namespace DecodeAlign.ChatConsole;

/// <summary>
/// The session's conversation. In single-turn mode each question is sent alone: the built-in arith models were trained
/// on one "Q: … A:" pair, and earlier pairs in the prompt only pull their answers off course.
/// </summary>
internal sealed class ChatHistory(bool multiTurn)
{
    private readonly List<ChatMessage> _messages = [];

    /// <summary>Whether earlier turns are sent with each question (switching it clears the history, so no stale turns reappear).</summary>
    public bool MultiTurn
    {
        get => multiTurn;
        set
        {
            if (value != multiTurn) _messages.Clear();
            multiTurn = value;
        }
    }

    /// <summary>Completed question/answer pairs kept for the next request.</summary>
    public int Turns => _messages.Count / 2;

    /// <summary>The messages to send for <paramref name="question"/>.</summary>
    public IList<ChatMessage> Ask(string question) => [.. MultiTurn ? _messages : [], new ChatMessage(ChatRole.User, question)];

    /// <summary>Records a finished reply; cancelled or failed replies are never recorded, so a retry asks the same thing.</summary>
    public void Record(string question, string answer)
    {
        if (!MultiTurn) return;
        _messages.Add(new ChatMessage(ChatRole.User, question));
        _messages.Add(new ChatMessage(ChatRole.Assistant, answer));
    }

    /// <summary>Forgets every turn.</summary>
    public void Reset() => _messages.Clear();
}
