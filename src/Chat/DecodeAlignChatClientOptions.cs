using DecodeAlign.Kernels;

namespace DecodeAlign.Chat;

/// <summary>Defaults of a <see cref="DecodeAlignChatClient"/>, used where a request does not say.</summary>
public sealed record DecodeAlignChatClientOptions
{
    /// <summary>Strategy when the request names none.</summary>
    public string DefaultStrategy { get; init; } = "sample";

    /// <summary>Maximum new tokens when the request gives no MaxOutputTokens.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 128;

    /// <summary>Kernel backend each request runs on (one instance per request, so requests never share kernel state).</summary>
    public KernelBackendKind Backend { get; init; } = KernelBackendKind.Cpu;

    /// <summary>Name reported as the model id and in metrics.</summary>
    public string ModelId { get; init; } = "decodealign";
}
