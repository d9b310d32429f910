using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace DecodeAlign.Chat;

/// <summary>The prompt layouts DecodeAlign renders itself (a Jinja <c>chat_template</c> is recognised by its markers, not run).</summary>
public enum ChatTemplateStyle
{
    /// <summary>"System: …\nUser: …\nAssistant:" for models without a template.</summary>
    Plain,

    /// <summary>The built-in arith format: "Q: question\nA:" (earlier turns as "Q: …\nA: …\n").</summary>
    Arith,

    /// <summary>Llama-2 chat: "[INST] &lt;&lt;SYS&gt;&gt;\nsystem\n&lt;&lt;/SYS&gt;&gt;\n\nuser [/INST] assistant".</summary>
    Llama2,

    /// <summary>ChatML: "&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n", ending with an open assistant turn.</summary>
    ChatMl,
}

/// <summary>Turns chat messages into the prompt text a model was trained on.</summary>
/// <param name="Style">The layout.</param>
public sealed record ChatTemplate(ChatTemplateStyle Style)
{
    /// <summary>The built-in arith models' format.</summary>
    public static ChatTemplate Arith { get; } = new(ChatTemplateStyle.Arith);

    /// <summary>The fallback layout.</summary>
    public static ChatTemplate Plain { get; } = new(ChatTemplateStyle.Plain);

    /// <summary>
    /// The template of a model folder: its tokenizer_config.json <c>chat_template</c> when it is a Llama-2 ("[INST]") or
    /// ChatML ("&lt;|im_start|&gt;") template, else <see cref="Plain"/>.
    /// </summary>
    public static ChatTemplate For(string folder)
    {
        var config = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(config)) return Plain;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            if (!doc.RootElement.TryGetProperty("chat_template", out var t) || t.ValueKind != JsonValueKind.String) return Plain;
            var text = t.GetString()!;
            if (text.Contains("<|im_start|>", StringComparison.Ordinal)) return new(ChatTemplateStyle.ChatMl);
            if (text.Contains("[INST]", StringComparison.Ordinal)) return new(ChatTemplateStyle.Llama2);
            return Plain;
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{config}: not valid JSON ({e.Message})");
        }
    }

    /// <summary>The prompt for <paramref name="messages"/>, ending where the assistant's reply begins. BOS is added by the tokenizer.</summary>
    public string Render(IEnumerable<ChatMessage> messages)
    {
        var list = messages.ToList();
        if (list.Count == 0) throw new ArgumentException("a chat request needs at least one message");
        var system = string.Join("\n", list.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        var turns = list.Where(m => m.Role != ChatRole.System).ToList();
        var sb = new StringBuilder();
        switch (Style)
        {
            case ChatTemplateStyle.Arith:
                foreach (var m in turns)
                    sb.Append(m.Role == ChatRole.User ? $"Q: {m.Text.Trim()}\nA:" : $" {m.Text.Trim()}\n");
                if (turns.Count == 0 || turns[^1].Role != ChatRole.User) sb.Append("A:");
                return sb.ToString();
            case ChatTemplateStyle.Llama2:
                var first = true;
                foreach (var m in turns)
                {
                    if (m.Role == ChatRole.User)
                    {
                        var text = first && system.Length > 0 ? $"<<SYS>>\n{system}\n<</SYS>>\n\n{m.Text.Trim()}" : m.Text.Trim();
                        sb.Append($"[INST] {text} [/INST]");
                        first = false;
                    }
                    else sb.Append($" {m.Text.Trim()} ");
                }
                return sb.ToString();
            case ChatTemplateStyle.ChatMl:
                if (system.Length > 0) sb.Append($"<|im_start|>system\n{system}<|im_end|>\n");
                foreach (var m in turns) sb.Append($"<|im_start|>{m.Role.Value}\n{m.Text}<|im_end|>\n");
                sb.Append("<|im_start|>assistant\n");
                return sb.ToString();
            default:
                if (system.Length > 0) sb.Append($"System: {system}\n");
                foreach (var m in turns) sb.Append($"{(m.Role == ChatRole.User ? "User" : "Assistant")}: {m.Text.Trim()}\n");
                sb.Append("Assistant:");
                return sb.ToString();
        }
    }

    /// <summary>Stop strings that end a reply in this layout (a new turn starting).</summary>
    public IReadOnlyList<string> StopStrings => Style switch
    {
        ChatTemplateStyle.Arith => ["\nQ:"],
        ChatTemplateStyle.ChatMl => ["<|im_end|>"],
        ChatTemplateStyle.Llama2 => ["[INST]"],
        _ => ["\nUser:"],
    };
}
