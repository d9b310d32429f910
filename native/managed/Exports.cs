using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using DecodeAlign.Decoding;

namespace DecodeAlign.Native;

/// <summary>What <see cref="Exports.Generate"/> tells the C side about a result, so C can allocate its copy (layout: decodealign.c's da_result_info).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ResultInfo
{
    /// <summary>The GCHandle holding the result until <see cref="Exports.ResultCopy"/>.</summary>
    public nint Handle;

    /// <summary>Length of the text in UTF-8 bytes, without a terminator.</summary>
    public int TextBytes;

    /// <summary>Number of generated tokens.</summary>
    public int TokenCount;

    /// <summary>The finish reason as the header's DA_FINISH_* value.</summary>
    public int Finish;

    /// <summary>1 when <see cref="Reward"/> holds the reward model's score, else 0.</summary>
    public int HasReward;

    /// <summary>The reward of the chosen response, where the strategy scored it.</summary>
    public double Reward;
}

/// <summary>
/// The entry points libdecodealign.so calls through hostfxr. Each one catches everything: an exception that reached C
/// would end the process. Errors are written, UTF-8 and NUL-terminated, into the caller's buffer (its thread-local
/// last-error buffer). Bundles and results cross as GCHandles the C side keeps opaque.
/// </summary>
public static unsafe class Exports
{
    /// <summary>Loads a bundle from its JSON config; <paramref name="libraryDir"/> is where libdecodealign.so lies.</summary>
    [UnmanagedCallersOnly]
    public static int BundleLoad(byte* configJson, byte* libraryDir, nint* bundleOut, byte* error, int errorCapacity)
    {
        try
        {
            if (bundleOut is null) throw new NativeApiException(Status.InvalidArgument, "out must not be NULL");
            var bundle = Bundle.Load(Utf8(configJson), Utf8(libraryDir));
            *bundleOut = GCHandle.ToIntPtr(GCHandle.Alloc(bundle));
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e, error, errorCapacity);
        }
    }

    /// <summary>Waits for a running generation, releases the bundle's models and its handle.</summary>
    [UnmanagedCallersOnly]
    public static int BundleFree(nint bundle, byte* error, int errorCapacity)
    {
        try
        {
            var handle = GCHandle.FromIntPtr(bundle);
            ((Bundle)handle.Target!).Dispose();
            handle.Free();
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e, error, errorCapacity);
        }
    }

    /// <summary>Cancels the generations running or waiting on the bundle; safe from any thread, including from a token callback.</summary>
    [UnmanagedCallersOnly]
    public static int Cancel(nint bundle, byte* error, int errorCapacity)
    {
        try
        {
            ((Bundle)GCHandle.FromIntPtr(bundle).Target!).CancelAll();
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e, error, errorCapacity);
        }
    }

    /// <summary>
    /// Generates a response to <paramref name="prompt"/> (encoded as is) with the options JSON; text goes to
    /// <paramref name="callback"/> as it becomes final (streaming strategies) or once at the end (the others).
    /// A nonzero return from the callback cancels this generation.
    /// </summary>
    [UnmanagedCallersOnly]
    public static int Generate(nint bundle, byte* prompt, byte* optionsJson, nint callback, nint user, ResultInfo* info, byte* error, int errorCapacity)
    {
        try
        {
            if (info is null) throw new NativeApiException(Status.InvalidArgument, "out must not be NULL");
            if (prompt is null) throw new NativeApiException(Status.InvalidArgument, "prompt must not be NULL (pass \"\" to start from BOS alone)");
            var b = (Bundle)GCHandle.FromIntPtr(bundle).Target!;
            var request = GenerateRequest.Parse(Utf8(optionsJson));
            var text = Utf8(prompt)!;
            using var cts = new CancellationTokenSource();
            var sink = callback == 0 ? null : new TextSink(callback, user, cts);
            var result = b.Run(cts, ct => Decode(b, request, text, sink, ct));
            *info = new ResultInfo
            {
                Handle = GCHandle.ToIntPtr(GCHandle.Alloc(result)),
                TextBytes = Encoding.UTF8.GetByteCount(result.Text),
                TokenCount = result.Tokens.Length,
                Finish = FinishCode(result.Finish),
                HasReward = result.Reward is null ? 0 : 1,
                Reward = result.Reward ?? 0,
            };
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e, error, errorCapacity);
        }
    }

    /// <summary>Copies a result's text (no terminator) and tokens into the C side's buffers, sized from <see cref="ResultInfo"/>, and frees its handle; NULL buffers only free it.</summary>
    [UnmanagedCallersOnly]
    public static int ResultCopy(nint result, byte* text, int* tokens)
    {
        try
        {
            var handle = GCHandle.FromIntPtr(result);
            var r = (DecodeResult)handle.Target!;
            handle.Free();
            if (text is not null) Encoding.UTF8.GetBytes(r.Text, new Span<byte>(text, Encoding.UTF8.GetByteCount(r.Text)));
            if (tokens is not null) r.Tokens.CopyTo(new Span<int>(tokens, r.Tokens.Length));
            return 0;
        }
        catch (Exception e)
        {
            return (int)StatusMap.For(e);
        }
    }

    /// <summary>Runs the strategy inside the bundle's lock, where lazy model loads are safe.</summary>
    private static DecodeResult Decode(Bundle b, GenerateRequest request, string prompt, TextSink? sink, CancellationToken ct)
    {
        var entry = request.Entry;
        if (entry.Requires.Contains(PotentialRole.AnswerExtractor) && b.AnswerExtractor is null)
            throw new NativeApiException(Status.Option, $"strategy '{entry.Name}' votes on answers: give 'task' in the bundle config (arith is the default only with the built-in LM)");
        var reward = request.NeedsReward ? b.RewardModels() : default((Models.Rewards.IRewardModel, Models.Rewards.IPrefixScorer)?);
        var potentials = new Potentials
        {
            Reward = reward?.Item1,
            PrefixScorer = reward?.Item2,
            Values = entry.Requires.Contains(PotentialRole.Value) ? [new WeightedValueModel(b.ValueModel(), request.Beta)] : [],
            BaselinePolicy = entry.Requires.Contains(PotentialRole.BaselinePolicy) ? b.BaselinePolicy() : null,
            AnswerExtractor = b.AnswerExtractor,
        };
        var ids = b.Lm.EncodePrompt(prompt);
        var strategy = entry.Create(new StrategyRequest
        {
            Model = b.Lm,
            Kernels = b.Kernels,
            Generation = request.Generation,
            Potentials = potentials,
            Options = request.Options,
            ExplicitTemperature = request.ExplicitTemperature,
            OnText = sink is not null && entry.Streams ? (_, t) => sink.Emit(t) : null,
        });
        var result = strategy.Decode([ids], ct)[0];
        // Strategies that choose among whole responses have nothing final before the end: deliver the choice once.
        if (sink is not null && !entry.Streams && result.Text.Length > 0) sink.Emit(result.Text);
        return result;
    }

    /// <summary>Forwards text to the C callback, NUL-terminated; a nonzero answer cancels the generation.</summary>
    private sealed class TextSink(nint callback, nint user, CancellationTokenSource cts)
    {
        /// <summary>Sends one chunk; the bytes are pinned only for the call, as the header promises.</summary>
        public void Emit(string text)
        {
            if (text.Length == 0) return;
            var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
            Encoding.UTF8.GetBytes(text, bytes);
            fixed (byte* p = bytes)
            {
                if (((delegate* unmanaged<byte*, nuint, nint, int>)callback)(p, (nuint)(bytes.Length - 1), user) != 0) cts.Cancel();
            }
        }
    }

    /// <summary>The header's DA_FINISH_* values, spelled out so reordering <see cref="FinishReason"/> cannot change the ABI.</summary>
    private static int FinishCode(FinishReason finish) => finish switch
    {
        FinishReason.EndOfSequence => 0,
        FinishReason.StopString => 1,
        FinishReason.MaxTokens => 2,
        FinishReason.ContextLength => 3,
        FinishReason.Cancelled => 4,
        FinishReason.Pruned => 5,
        _ => 6,
    };

    private static string? Utf8(byte* text) => text is null ? null : Marshal.PtrToStringUTF8((nint)text);

    private static int Fail(Exception e, byte* error, int capacity)
    {
        try
        {
            WriteError(StatusMap.Message(e), error, capacity);
            return (int)StatusMap.For(e);
        }
        catch
        {
            return (int)Status.Internal;
        }
    }

    /// <summary>Writes as much of the message as fits, cut at a character boundary, always NUL-terminated.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteError(string message, byte* error, int capacity)
    {
        if (error is null || capacity <= 0) return;
        var bytes = Encoding.UTF8.GetBytes(message);
        var n = Math.Min(bytes.Length, capacity - 1);
        while (n > 0 && n < bytes.Length && (bytes[n] & 0xC0) == 0x80) n--;
        bytes.AsSpan(0, n).CopyTo(new Span<byte>(error, n));
        error[n] = 0;
    }
}
