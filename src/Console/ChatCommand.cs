namespace DecodeAlign.ChatConsole;

/// <summary>One slash command: what /help shows for it and what it does.</summary>
/// <param name="Name">The name typed after '/'.</param>
/// <param name="Arguments">Its arguments as /help shows them (empty for none).</param>
/// <param name="Help">One line on what it is for.</param>
/// <param name="Run">Runs it with the text after the name; throws <see cref="ArgumentException"/> for a bad argument.</param>
internal sealed record ChatCommand(string Name, string Arguments, string Help, Func<ChatSession, string, CancellationToken, Task> Run);
