using DecodeAlign.Chat;

namespace DecodeAlign.Chat.Tests;

/// <summary>One built-in bundle (every part loaded) shared by the chat tests: loading takes a second, the models are thread-safe.</summary>
public sealed class BuiltinBundle : IDisposable
{
    public ModelBundle Bundle { get; } = ModelBundle.Load();

    public void Dispose() => Bundle.Dispose();
}
