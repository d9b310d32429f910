using System.Diagnostics.Metrics;
using DecodeAlign.Chat;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DecodeAlign chat clients: <c>services.AddDecodeAlign(...)</c>, keyed for several bundles, composable with ChatClientBuilder middleware.</summary>
public static class DecodeAlignServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="IChatClient"/> over a <see cref="ModelBundle"/> loaded on first use (the built-in arith
    /// models with default options) and disposed with the container; returns the builder for middleware
    /// (<c>.UseLogging()</c>, <c>.UseOpenTelemetry()</c>, …). Logging and metrics come from the container when present.
    /// </summary>
    public static ChatClientBuilder AddDecodeAlign(this IServiceCollection services, ModelBundleOptions? bundle = null, DecodeAlignChatClientOptions? client = null)
    {
        AddMetrics(services);
        return services.AddChatClient(sp => Create(sp, bundle, client));
    }

    /// <summary>Registers a keyed client, one per bundle: resolve with <c>[FromKeyedServices(key)] IChatClient</c>.</summary>
    public static ChatClientBuilder AddKeyedDecodeAlign(this IServiceCollection services, object serviceKey, ModelBundleOptions? bundle = null, DecodeAlignChatClientOptions? client = null)
    {
        AddMetrics(services);
        return services.AddKeyedChatClient(serviceKey, sp => Create(sp, bundle, client));
    }

    private static void AddMetrics(IServiceCollection services) =>
        services.TryAddSingleton(sp => new DecodeAlignMetrics(sp.GetService<IMeterFactory>()));

    private static DecodeAlignChatClient Create(IServiceProvider sp, ModelBundleOptions? bundle, DecodeAlignChatClientOptions? client) =>
        new(ModelBundle.Load(bundle), client, sp.GetService<ILogger<DecodeAlignChatClient>>(), sp.GetService<DecodeAlignMetrics>(), ownsBundle: true);
}
