using DecodeAlign.Chat;
using Microsoft.Extensions.AI;

namespace DecodeAlign.Chat.Tests;

/// <summary>Chat templates: the layout each style renders, and the style read from a model folder's tokenizer_config.json.</summary>
public sealed class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new(ChatRole.System, "Be brief."),
        new(ChatRole.User, "Hi"),
        new(ChatRole.Assistant, "Hello."),
        new(ChatRole.User, "2+2?"),
    ];

    [Fact]
    public void Each_style_renders_its_layout_ending_where_the_reply_begins()
    {
        Assert.Equal("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. [INST] 2+2? [/INST]", new ChatTemplate(ChatTemplateStyle.Llama2).Render(Conversation));
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
            new ChatTemplate(ChatTemplateStyle.ChatMl).Render(Conversation));
        Assert.Equal("System: Be brief.\nUser: Hi\nAssistant: Hello.\nUser: 2+2?\nAssistant:", ChatTemplate.Plain.Render(Conversation));
        Assert.Equal("Q: Sam has 5 cards.\nA:", ChatTemplate.Arith.Render([new ChatMessage(ChatRole.User, "Sam has 5 cards.")]));
        Assert.Throws<ArgumentException>(() => ChatTemplate.Plain.Render([]));
    }

    [Theory]
    [InlineData("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}", ChatTemplateStyle.ChatMl)]
    [InlineData("{{ bos_token + '[INST] ' + content + ' [/INST]' }}", ChatTemplateStyle.Llama2)]
    [InlineData("{{ messages }}", ChatTemplateStyle.Plain)]
    public void The_style_is_read_from_the_tokenizer_config(string template, ChatTemplateStyle expected)
    {
        var dir = Directory.CreateTempSubdirectory("decodealign-template-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), System.Text.Json.JsonSerializer.Serialize(new { chat_template = template }));
            Assert.Equal(expected, ChatTemplate.For(dir).Style);
            File.Delete(Path.Combine(dir, "tokenizer_config.json"));
            Assert.Equal(ChatTemplateStyle.Plain, ChatTemplate.For(dir).Style);
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{ not json");
            Assert.Contains("tokenizer_config.json", Assert.Throws<ArgumentException>(() => ChatTemplate.For(dir)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SharedFact]
    public void The_real_llama_layout_fixture_is_recognised() =>
        Assert.Equal(ChatTemplateStyle.Llama2, ChatTemplate.For(SharedModels.PathOf("tiny-random-llama-fp16")).Style);
}
