using System.Text.Json;
using DecodeAlign.Kernels;
using DecodeAlign.Models;

namespace DecodeAlign.Native;

/// <summary>The status codes of decodealign.h (DA_OK, DA_ERR_*); the numbers are the C ABI and never change meaning.</summary>
public enum Status
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>A NULL or freed pointer, or an argument the call cannot take.</summary>
    InvalidArgument = 1,

    /// <summary>The config or options text is not valid JSON, or not a JSON object.</summary>
    Json = 2,

    /// <summary>A key has the wrong type or value, is unknown, or a needed model is not configured.</summary>
    Option = 3,

    /// <summary>The strategy name is not in the catalog.</summary>
    UnknownStrategy = 4,

    /// <summary>A model could not be found, loaded or run.</summary>
    Model = 5,

    /// <summary>The .NET runtime or the managed assembly could not be loaded (set by the C side).</summary>
    Runtime = 6,

    /// <summary>Memory ran out.</summary>
    OutOfMemory = 7,

    /// <summary>An unexpected failure; the message says what.</summary>
    Internal = 8,
}

/// <summary>A caller mistake the ABI reports with a chosen status, as opposed to failures mapped by exception type.</summary>
/// <param name="status">The status code to return.</param>
/// <param name="message">The message <c>da_last_error</c> shows.</param>
public sealed class NativeApiException(Status status, string message) : Exception(message)
{
    /// <summary>The status code the call returns.</summary>
    public Status Status { get; } = status;
}

/// <summary>Maps exceptions to status codes, so no exception ever crosses into C (that would end the process).</summary>
public static class StatusMap
{
    /// <summary>The status code for <paramref name="e"/>.</summary>
    public static Status For(Exception e) => e switch
    {
        NativeApiException n => n.Status,
        JsonException => Status.Json,
        ModelException or IOException or UnauthorizedAccessException or BackendUnavailableException => Status.Model,
        ObjectDisposedException => Status.InvalidArgument,
        OutOfMemoryException => Status.OutOfMemory,
        // Strategies validate their options and potentials with ArgumentException before any model runs.
        ArgumentException => Status.Option,
        _ => Status.Internal,
    };

    /// <summary>The message for <paramref name="e"/>: its own text, with the type only where the text alone would be unclear.</summary>
    public static string Message(Exception e) => e switch
    {
        NativeApiException or ArgumentException or ModelException or IOException or BackendUnavailableException => e.Message,
        JsonException j => $"invalid JSON: {j.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
