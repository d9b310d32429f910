using DecodeAlign.Decoding;
using DecodeAlign.Models;

namespace DecodeAlign.Cli;

/// <summary>Maps user errors to a one-line message and a non-zero exit code; real bugs keep their stack trace.</summary>
internal static class CliErrors
{
    /// <summary>Exit code for user errors (bad files, bad options, bad input).</summary>
    public const int UserError = 2;

    /// <summary>Exit code when the run was cancelled by SIGINT (Ctrl+C): 128 + 2, as shells report it.</summary>
    public const int Cancelled = 130;

    /// <summary>Exit code when the run was cancelled by SIGTERM: 128 + 15.</summary>
    public const int Terminated = 143;

    /// <summary>Runs a verb; <paramref name="cancelledExitCode"/> says which signal's code a cancelled run exits with.</summary>
    public static int Run(Func<int> body, Func<int>? cancelledExitCode = null)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            Console.Error.WriteLine($"error: {(ex is ArgumentException ? WithFlag(ex.Message) : ex.Message)}");
            return UserError;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk, a closed pipe or a path that cannot be written: the environment, not a bug; say which.
            Console.Error.WriteLine($"error: {(IsStandardOutput(ex) ? "standard output: " : "")}{ex.Message.TrimEnd('.', ' ')}.");
            return UserError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return cancelledExitCode?.Invoke() ?? Cancelled;
        }
    }

    /// <summary>Whether the failed write was to the console's output (its message names no file).</summary>
    private static bool IsStandardOutput(Exception ex) =>
        ex is IOException && ex.StackTrace?.Contains("System.ConsolePal", StringComparison.Ordinal) == true;

    /// <summary>
    /// System.CommandLine's parse message with .NET type names replaced by what the user should type
    /// ("Cannot parse argument '-1' for option '--seed' as expected type 'System.UInt64'" → "… as a whole number >= 0").
    /// </summary>
    public static string ParseMessage(string message) => message
        .Replace("as expected type 'System.UInt64'", "as a whole number >= 0", StringComparison.Ordinal)
        .Replace("as expected type 'System.Int32'", "as a whole number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Int64'", "as a whole number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Nullable`1[System.Int32]'", "as a whole number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Single'", "as a number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Nullable`1[System.Single]'", "as a number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Double'", "as a number", StringComparison.Ordinal)
        .TrimEnd('.') + ".";

    /// <summary>
    /// The library states each option's rule once, in its own words ("beta must be > 0 and finite"); the CLI puts the
    /// flag that carries it in front, so the user knows what to change. Longest names first: "lookahead temperature"
    /// before "lookahead".
    /// </summary>
    private static readonly (string Phrase, string Flag)[] Flags = StrategyCatalog.All.SelectMany(e => e.Options).Select(o => o.Name).Distinct()
        .Concat(["max-new-tokens", "temperature", "top-p", "min-p", "top-k", "beta"])
        .Select(n => (Phrase: n.Replace('-', ' '), Flag: "--" + n))
        .Concat(new (string Phrase, string Flag)[] { ("prune-at", "--prune-at"), ("stop strings", "--stop"), ("intra-op threads", "--threads"), ("particles", "--n"), ("candidates", "--n"), ("chains per prompt", "--n"), ("steps", "--n"), ("n", "--n") })
        .OrderByDescending(p => p.Phrase.Length).ToArray();

    /// <summary>Prefixes a library validation message with the CLI flag it is about, when one is recognised.</summary>
    public static string WithFlag(string message)
    {
        foreach (var (phrase, flag) in Flags)
            if (message.StartsWith(phrase + " ", StringComparison.Ordinal)) return $"{flag}: {message}";
        return message;
    }

    /// <summary>Errors caused by what the user supplied, not by a bug in DecodeAlign.</summary>
    public static bool IsUserError(Exception ex) => ex is ModelException or CliUsageException or FileNotFoundException
        or DirectoryNotFoundException or ArgumentException;
}

/// <summary>A bad combination of command-line options, reported without a stack trace.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
