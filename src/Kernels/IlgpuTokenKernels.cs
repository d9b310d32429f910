using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace DecodeAlign.Kernels;

/// <summary>
/// ILGPU backend: CUDA where a device exists, or ILGPU's CPU accelerator (a slow simulator, for tests). One context
/// and accelerator per instance, kernels loaded once, device buffers reused and grown on demand. The host API copies
/// each batch to the device, runs one group per row (see <see cref="IlgpuKernelCode"/>), and copies results back.
/// See <see cref="ITokenKernels"/> for the exactness contract.
/// </summary>
public sealed class IlgpuTokenKernels : ITokenKernels
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly int _group;
    private readonly Dictionary<string, MemoryBuffer> _buffers = [];
    private readonly ArrayView<uint> _massTable;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int> _topK;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<uint>, ArrayView<uint>, ArrayView<long>, ArrayView<int>, ArrayView<int>, ArrayView<int>, IlgpuRowArgs> _sample;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<int>, IlgpuPenaltyArgs> _penalize;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int> _normalize;
    private readonly Action<Index1D, ArrayView<float>, float> _scale;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _fuse;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _scatter;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<int>, ArrayView<byte>, int, ulong> _accept;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>> _argmax;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, float> _vote;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<long>, ArrayView<int>, ArrayView<int>, int, ulong> _resample;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>> _ess;

    private IlgpuTokenKernels(Context context, Accelerator accelerator, KernelBackendKind kind)
    {
        _context = context;
        _accelerator = accelerator;
        Kind = kind;
        _group = Math.Min(accelerator.MaxNumThreadsPerGroup, kind == KernelBackendKind.Cuda ? 256 : 8);
        _group = Math.Min(_group, IlgpuKernelCode.MaxGroup);
        _massTable = Upload<uint>("massTable", FixedPointMass.ExpTable);
        _topK = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int>(IlgpuKernelCode.TopK);
        _sample = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<uint>, ArrayView<uint>, ArrayView<long>, ArrayView<int>, ArrayView<int>, ArrayView<int>, IlgpuRowArgs>(IlgpuKernelCode.SampleRows);
        _penalize = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, IlgpuPenaltyArgs>(IlgpuKernelCode.Penalize);
        _normalize = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(IlgpuKernelCode.Normalize);
        _scale = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(IlgpuKernelCode.Scale);
        _fuse = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(IlgpuKernelCode.Fuse);
        _scatter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(IlgpuKernelCode.Scatter);
        _accept = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<int>, ArrayView<byte>, int, ulong>(IlgpuKernelCode.Accept);
        _argmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<int>>(IlgpuKernelCode.Argmax);
        _vote = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, float>(IlgpuKernelCode.Vote);
        _resample = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<long>, ArrayView<int>, ArrayView<int>, int, ulong>(IlgpuKernelCode.Resample);
        _ess = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>>(IlgpuKernelCode.Ess);
    }

    /// <summary>A CUDA backend on device 0; throws <see cref="BackendUnavailableException"/> when there is none.</summary>
    public static IlgpuTokenKernels CreateCuda()
    {
        var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        if (context.GetCudaDevices().Count == 0)
        {
            context.Dispose();
            throw new BackendUnavailableException("--backend cuda was requested but no CUDA device was found (no NVIDIA GPU or driver visible to ILGPU); use --backend cpu or auto");
        }
        return new IlgpuTokenKernels(context, context.CreateCudaAccelerator(0), KernelBackendKind.Cuda);
    }

    /// <summary>ILGPU's CPU accelerator with small groups (8 threads): a faithful but slow simulation of the GPU kernels.</summary>
    public static IlgpuTokenKernels CreateCpu()
    {
        var context = Context.Create(b => b.CPU(new CPUDevice(4, 2, 1)).EnableAlgorithms());
        return new IlgpuTokenKernels(context, context.CreateCPUAccelerator(0), KernelBackendKind.IlgpuCpu);
    }

    /// <inheritdoc/>
    public KernelBackendKind Kind { get; }

    /// <inheritdoc/>
    public string DeviceName => $"ILGPU {_accelerator.AcceleratorType}: {_accelerator.Name} (groups of {_group})";

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _buffers.Values) b.Dispose();
        _buffers.Clear();
        _accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>A device view of at least <paramref name="length"/> elements for a named role, growing the buffer when needed.</summary>
    private ArrayView<T> Buffer<T>(string role, long length) where T : unmanaged
    {
        length = Math.Max(1, length);
        if (_buffers.TryGetValue(role, out var existing) && existing is MemoryBuffer1D<T, Stride1D.Dense> typed && typed.Length >= length)
            return typed.View.SubView(0, length);
        existing?.Dispose();
        var created = _accelerator.Allocate1D<T>(Math.Max(length, existing is null ? length : existing.Length * 2));
        _buffers[role] = created;
        return created.View.SubView(0, length);
    }

    private ArrayView<T> Upload<T>(string role, ReadOnlySpan<T> data) where T : unmanaged
    {
        var view = Buffer<T>(role, data.Length);
        if (data.Length > 0) view.SubView(0, data.Length).CopyFromCPU(data);
        return view;
    }

    private void Download<T>(ArrayView<T> view, Span<T> destination) where T : unmanaged
    {
        _accelerator.Synchronize();
        if (destination.Length > 0) view.SubView(0, destination.Length).CopyToCPU(destination);
    }

    private KernelConfig Rows(int rows) => new(rows, _group);

    /// <summary>Throws the first rejected row's error, with the same message as the CPU backends.</summary>
    private void CheckStatus(ArrayView<int> status, int rows, string what)
    {
        var host = new int[rows];
        Download(status, host);
        for (int r = 0; r < rows; r++)
            switch (host[r])
            {
                case IlgpuKernelCode.StatusNaN: KernelChecks.Classify(0f, true, r, what); break;
                case IlgpuKernelCode.StatusPositiveInfinity: KernelChecks.Classify(float.PositiveInfinity, false, r, what); break;
                case IlgpuKernelCode.StatusAllMasked: KernelChecks.Classify(float.NegativeInfinity, false, r, what); break;
            }
    }

    private (ArrayView<long> Ids, ArrayView<int> Steps) UploadKeys(ReadOnlySpan<SampleKey> keys)
    {
        var ids = new long[keys.Length];
        var steps = new int[keys.Length];
        for (int i = 0; i < keys.Length; i++) { ids[i] = keys[i].RowId; steps[i] = keys[i].Step; }
        return (Upload<long>("rowIds", ids), Upload<int>("steps", steps));
    }

    /// <inheritdoc/>
    public void ConvertHalf(ReadOnlySpan<System.Half> source, Span<float> destination)
    {
        // fp16 arrives from the host; converting there costs one pass and keeps the device kernels float32-only.
        KernelChecks.Length(destination.Length, source.Length, "destination");
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(source, destination);
    }

    /// <inheritdoc/>
    public void ScaleTemperature(Span<float> logits, float temperature)
    {
        KernelChecks.Temperature(temperature);
        if (logits.IsEmpty) return;
        var x = Upload<float>("x", logits);
        _scale(logits.Length, x, temperature);
        Download(x, logits);
    }

    private void Normalize(ReadOnlySpan<float> logits, int vocab, Span<float> output, int mode)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (rows == 0) return;
        var x = Upload<float>("x", logits);
        var o = Buffer<float>("out", output.Length);
        var status = Buffer<int>("status", rows);
        _normalize(Rows(rows), x, o, status, vocab, mode);
        CheckStatus(status, rows, "logits");
        Download(o, output);
    }

    /// <inheritdoc/>
    public void Softmax(ReadOnlySpan<float> logits, int vocab, Span<float> probabilities)
    {
        KernelChecks.Length(probabilities.Length, logits.Length, "probabilities");
        Normalize(logits, vocab, probabilities, 0);
    }

    /// <inheritdoc/>
    public void LogSoftmax(ReadOnlySpan<float> logits, int vocab, Span<float> logProbabilities)
    {
        KernelChecks.Length(logProbabilities.Length, logits.Length, "log-probabilities");
        Normalize(logits, vocab, logProbabilities, 1);
    }

    /// <inheritdoc/>
    public void Entropy(ReadOnlySpan<float> logits, int vocab, Span<float> entropy)
    {
        KernelChecks.Length(entropy.Length, KernelChecks.Rows(logits.Length, vocab), "entropy");
        Normalize(logits, vocab, entropy, 2);
    }

    /// <inheritdoc/>
    public int TopK(ReadOnlySpan<float> logits, int vocab, int k, Span<int> ids, Span<float> values)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (k <= 0) throw new ArgumentException($"k must be > 0 (got {k})");
        int kk = Math.Min(k, vocab);
        KernelChecks.Length(ids.Length, (long)rows * kk, "ids");
        KernelChecks.Length(values.Length, (long)rows * kk, "values");
        if (rows == 0) return kk;
        var x = Upload<float>("x", logits);
        var oi = Buffer<int>("ids", ids.Length);
        var ov = Buffer<float>("values", values.Length);
        var scratch = Buffer<int>("scratchIds", ids.Length);
        var status = Buffer<int>("status", rows);
        _topK(Rows(rows), x, oi, ov, scratch, status, vocab, kk);
        CheckStatus(status, rows, "logits");
        Download(oi, ids);
        Download(ov, values);
        return kk;
    }

    /// <inheritdoc/>
    public void MaskTopP(Span<float> logits, int vocab, float topP)
    {
        if (!(topP > 0f && topP <= 1f)) throw new ArgumentException($"top-p must be in (0, 1] (got {topP})");
        Mask(logits, vocab, 0f, topP);
    }

    /// <inheritdoc/>
    public void MaskMinP(Span<float> logits, int vocab, float minP)
    {
        if (!(minP >= 0f && minP <= 1f)) throw new ArgumentException($"min-p must be in [0, 1] (got {minP})");
        Mask(logits, vocab, minP, 1f);
    }

    private void Mask(Span<float> logits, int vocab, float minP, float topP)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        if (rows == 0) return;
        var x = Upload<float>("x", logits);
        var args = new IlgpuRowArgs
        {
            Vocab = vocab, MaskOnly = 1, Scale = FixedPointMass.ScaleFor(1f), UseTopP = topP < 1f ? 1 : 0,
            TopPQ32 = FixedPointMass.TopPQ32(topP), MinMass = minP > 0f ? FixedPointMass.MinPMass(minP) : 0,
        };
        RunRows(x, rows, args, default);
        Download(x, logits);
    }

    private ArrayView<int> RunRows(ArrayView<float> x, int rows, IlgpuRowArgs args, ReadOnlySpan<SampleKey> keys)
    {
        var (rowIds, steps) = keys.IsEmpty ? (Buffer<long>("rowIds", rows), Buffer<int>("steps", rows)) : UploadKeys(keys);
        var w = Buffer<uint>("mass", (long)rows * args.Vocab);
        var tokens = Buffer<int>("tokens", rows);
        var status = Buffer<int>("status", rows);
        _sample(Rows(rows), x, w, _massTable, rowIds, steps, tokens, status, args);
        CheckStatus(status, rows, "logits");
        return tokens;
    }

    /// <inheritdoc/>
    public void ApplyPenalties(Span<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<int> history, ReadOnlySpan<int> historyOffsets)
    {
        parameters.Validate();
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.History(history, historyOffsets, rows, vocab);
        if (rows == 0) return;
        var x = Upload<float>("x", logits);
        Penalize(x, rows, vocab, parameters, history, historyOffsets);
        Download(x, logits);
    }

    private void Penalize(ArrayView<float> x, int rows, int vocab, SamplingParameters p, ReadOnlySpan<int> history, ReadOnlySpan<int> offsets)
    {
        var h = Upload<int>("history", history);
        var o = Upload<int>("historyOffsets", offsets);
        var args = new IlgpuPenaltyArgs
        {
            Vocab = vocab, InverseRepetition = 1f / p.RepetitionPenalty, Repetition = p.RepetitionPenalty,
            Frequency = p.FrequencyPenalty, Presence = p.PresencePenalty,
        };
        _penalize(Rows(rows), x, h, o, args);
    }

    /// <inheritdoc/>
    public void Sample(ReadOnlySpan<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<SampleKey> keys, Span<int> tokens,
        ReadOnlySpan<int> history = default, ReadOnlySpan<int> historyOffsets = default)
    {
        bool penalize = KernelChecks.SampleArguments(logits.Length, vocab, parameters, keys.Length, tokens.Length, history, historyOffsets, out int rows);
        if (rows == 0) return;
        var x = Upload<float>("x", logits);
        if (penalize) Penalize(x, rows, vocab, parameters, history, historyOffsets);
        var args = new IlgpuRowArgs
        {
            Vocab = vocab, TopK = parameters.TopK, Greedy = parameters.Greedy ? 1 : 0, UseTopP = parameters.TopP < 1f ? 1 : 0,
            Scale = parameters.Greedy ? 0f : FixedPointMass.ScaleFor(parameters.Temperature),
            MinMass = parameters.MinP > 0f ? FixedPointMass.MinPMass(parameters.MinP) : 0,
            TopPQ32 = FixedPointMass.TopPQ32(parameters.TopP), Seed = parameters.Seed,
        };
        Download(RunRows(x, rows, args, keys), tokens);
    }

    /// <inheritdoc/>
    public void FuseCandidates(ReadOnlySpan<float> baseScores, int k, ReadOnlySpan<float> scores, ReadOnlySpan<float> weights, FusionMode mode, Span<float> fused)
    {
        int rows = KernelChecks.Rows(baseScores.Length, k, "base scores");
        KernelChecks.Length(scores.Length, (long)weights.Length * rows * k, "scores");
        KernelChecks.Length(fused.Length, baseScores.Length, "fused");
        for (int i = 0; i < weights.Length; i++)
            for (int r = 0; r < rows; r++)
                foreach (float s in scores.Slice((i * rows + r) * k, k))
                    if (float.IsNaN(s)) throw new ArgumentException($"scores {i} row {r} contains NaN");
        if (rows == 0) return;
        var b = Upload<float>("base", baseScores);
        var s2 = Upload<float>("scores", scores);
        var w = Upload<float>("weights", weights).SubView(0, weights.Length);
        var f = Buffer<float>("fused", fused.Length);
        _fuse(rows, b, s2, w, f, rows, k, mode == FusionMode.Centered ? 1 : 0);
        Download(f, fused);
    }

    /// <inheritdoc/>
    public void SelectCandidates(ReadOnlySpan<float> fused, int k, float temperature, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> chosen) =>
        Sample(fused, k, new SamplingParameters { Temperature = temperature, Seed = seed }, keys, chosen);

    /// <inheritdoc/>
    public void ScatterCandidates(Span<float> logits, int vocab, ReadOnlySpan<int> candidateIds, int k, ReadOnlySpan<float> candidateScores)
    {
        int rows = KernelChecks.Rows(logits.Length, vocab);
        KernelChecks.Length(candidateIds.Length, (long)rows * k, "candidate ids");
        KernelChecks.Length(candidateScores.Length, (long)rows * k, "candidate scores");
        for (int e = 0; e < candidateIds.Length; e++)
            if ((uint)candidateIds[e] >= (uint)vocab)
                throw new ArgumentException($"candidate id {candidateIds[e]} of row {e / k} is outside the vocabulary [0, {vocab})");
        if (candidateIds.IsEmpty) return;
        var x = Upload<float>("x", logits);
        var ids = Upload<int>("ids", candidateIds);
        var s = Upload<float>("scores", candidateScores);
        _scatter(candidateIds.Length, x, ids, s, vocab, k);
        Download(x, logits);
    }

    /// <inheritdoc/>
    public void AcceptMetropolisHastings(ReadOnlySpan<float> logRatioTerms, int terms, ulong seed, ReadOnlySpan<SampleKey> keys, Span<bool> accepted)
    {
        int chains = KernelChecks.Rows(logRatioTerms.Length, terms, "log-ratio terms");
        KernelChecks.Length(keys.Length, chains, "keys");
        KernelChecks.Length(accepted.Length, chains, "accepted");
        for (int c = 0; c < chains; c++)
        {
            float delta = 0f;
            foreach (float t in logRatioTerms.Slice(c * terms, terms)) delta += t;
            if (float.IsNaN(delta)) throw new ArgumentException($"log-ratio of chain {c} is NaN");
        }
        if (chains == 0) return;
        var t2 = Upload<float>("terms", logRatioTerms);
        var (rowIds, steps) = UploadKeys(keys);
        var a = Buffer<byte>("accepted", chains);
        _accept(chains, t2, rowIds, steps, a, terms, seed);
        var host = new byte[chains];
        Download(a, host);
        for (int c = 0; c < chains; c++) accepted[c] = host[c] != 0;
    }

    /// <inheritdoc/>
    public void GroupArgmax(ReadOnlySpan<float> values, ReadOnlySpan<int> groupOffsets, Span<int> winners)
    {
        KernelChecks.Offsets(groupOffsets, values.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "argmax");
        int groups = groupOffsets.Length - 1;
        KernelChecks.Length(winners.Length, groups, "winners");
        if (groups == 0) return;
        var v = Upload<float>("values", values);
        var o = Upload<int>("offsets", groupOffsets);
        var w = Buffer<int>("winners", groups);
        var status = Buffer<int>("status", groups);
        _argmax(groups, v, o, w, status);
        var host = new int[groups];
        Download(status, host);
        for (int g = 0; g < groups; g++) if (host[g] != 0) throw new ArgumentException($"values of group {g} contain NaN");
        Download(w, winners);
    }

    /// <inheritdoc/>
    public void Vote(ReadOnlySpan<int> answers, ReadOnlySpan<float> rewards, ReadOnlySpan<int> groupOffsets, float beta, Span<int> winners, Span<float> shares)
    {
        bool weighted = !rewards.IsEmpty;
        if (weighted) { KernelChecks.Beta(beta); KernelChecks.Length(rewards.Length, answers.Length, "rewards"); }
        KernelChecks.Offsets(groupOffsets, answers.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "vote");
        int groups = groupOffsets.Length - 1;
        KernelChecks.Length(winners.Length, groups, "winners");
        KernelChecks.Length(shares.Length, groups, "shares");
        if (groups == 0) return;
        var a = Upload<int>("answers", answers);
        var r = weighted ? Upload<float>("rewards", rewards) : Buffer<float>("rewards", 1);
        var o = Upload<int>("offsets", groupOffsets);
        var w = Buffer<int>("winners", groups);
        var s = Buffer<float>("shares", groups);
        var status = Buffer<int>("status", groups);
        _vote(groups, a, r, o, w, s, status, weighted ? 1 : 0, weighted ? FixedPointMass.ScaleFor(beta) : 0f);
        CheckStatus(status, groups, "rewards");
        Download(w, winners);
        Download(s, shares);
    }

    /// <inheritdoc/>
    public void Resample(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, ResamplingScheme scheme, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> ancestors)
    {
        KernelChecks.Offsets(groupOffsets, weights.Length, "group");
        KernelChecks.NonEmptyGroups(groupOffsets, "resampling");
        int groups = groupOffsets.Length - 1;
        KernelChecks.Length(keys.Length, groups, "keys");
        KernelChecks.Length(ancestors.Length, weights.Length, "ancestors");
        for (int g = 0; g < groups; g++) KernelChecks.Weights(weights[groupOffsets[g]..groupOffsets[g + 1]], g);
        if (groups == 0) return;
        var w = Upload<float>("weights", weights);
        var o = Upload<int>("offsets", groupOffsets);
        var (rowIds, steps) = UploadKeys(keys);
        var a = Buffer<int>("ancestors", weights.Length);
        _resample(groups, w, o, rowIds, steps, a, scheme == ResamplingScheme.Systematic ? 1 : 0, seed);
        Download(a, ancestors);
    }

    /// <inheritdoc/>
    public void EffectiveSampleSize(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, Span<float> ess)
    {
        KernelChecks.Offsets(groupOffsets, weights.Length, "group");
        int groups = groupOffsets.Length - 1;
        KernelChecks.Length(ess.Length, groups, "ess");
        if (groups == 0) return;
        var w = Upload<float>("weights", weights);
        var o = Upload<int>("offsets", groupOffsets);
        var e = Buffer<float>("ess", groups);
        _ess(groups, w, o, e);
        Download(e, ess);
    }
}
