namespace DecodeAlign.Kernels;

/// <summary>
/// The requested backend cannot run on this machine (e.g. <c>--backend cuda</c> without a CUDA device). Derives from
/// <see cref="ArgumentException"/> because the choice came from the caller's options, so CLIs report it as a user error.
/// </summary>
public sealed class BackendUnavailableException(string message) : ArgumentException(message);
