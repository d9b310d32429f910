namespace DecodeAlign.Kernels;

/// <summary>
/// Every piece of per-token arithmetic the decoding strategies need, over row-major float32 batches
/// [rows × vocab] (rows = buffer length / vocab). Implementations: <see cref="SimdTokenKernels"/> (CPU) and
/// <see cref="IlgpuTokenKernels"/> (CUDA or ILGPU's CPU accelerator); create them with <see cref="KernelBackends.Create(KernelBackendKind)"/>.
/// <para>
/// Exactness contract: sampled ids, argmaxes, top-k sets and order, masks, votes, MH decisions and resampling
/// indices are bit-identical across backends and batch compositions. Every decision is made either by float
/// comparisons (exact) or on integer masses from <see cref="FixedPointMass"/> with randoms from
/// <see cref="Philox4x32"/> keyed by (seed, row id, step), never on float sums whose order differs between backends.
/// Float outputs (softmax, log-softmax, entropy, fused scores, ESS) agree to about 1e-6 relative.
/// Rows containing NaN or +∞, or made only of −∞, are rejected with an <see cref="ArgumentException"/> naming the row.
/// Ties are always broken by the lowest id (or index).
/// </para>
/// <para>
/// Why this holds on CUDA too (verified here only on ILGPU's CPU accelerator; no GPU was available): decision paths
/// use only correctly rounded single float operations that no compiler may contract into an FMA (a subtraction
/// feeding a multiplication, multiplications by host-computed constants, double sums of exact float products),
/// 32/64-bit integer arithmetic, and no single-precision division or transcendental function. The float-output operations
/// (softmax, log-softmax, entropy, temperature scaling) use the device's exp/log/division and are only 1e-5 close.
/// </para>
/// Not thread-safe: one instance per caller.
/// </summary>
public interface ITokenKernels : IDisposable
{
    /// <summary>The backend this instance runs on (never <see cref="KernelBackendKind.Auto"/>).</summary>
    KernelBackendKind Kind { get; }

    /// <summary>Human-readable device description (e.g. "CPU SIMD (AVX2, 8 floats)" or the CUDA device name).</summary>
    string DeviceName { get; }

    /// <summary>Converts fp16 logits to float32 (the other operations take float32).</summary>
    void ConvertHalf(ReadOnlySpan<Half> source, Span<float> destination);

    /// <summary>Divides every logit by <paramref name="temperature"/> (&gt; 0) in place.</summary>
    void ScaleTemperature(Span<float> logits, float temperature);

    /// <summary>Numerically stable softmax of each row (exp(x − max) / Σ); −∞ entries give 0.</summary>
    void Softmax(ReadOnlySpan<float> logits, int vocab, Span<float> probabilities);

    /// <summary>Numerically stable log-softmax of each row: x − max − log Σ exp(x − max).</summary>
    void LogSoftmax(ReadOnlySpan<float> logits, int vocab, Span<float> logProbabilities);

    /// <summary>Shannon entropy (nats) of each row's softmax; <paramref name="entropy"/> has one entry per row.</summary>
    void Entropy(ReadOnlySpan<float> logits, int vocab, Span<float> entropy);

    /// <summary>
    /// The k' = min(k, vocab) highest logits of each row, sorted by (value desc, id asc), into
    /// <paramref name="ids"/> and <paramref name="values"/> of rows × k' entries. Returns k'.
    /// </summary>
    int TopK(ReadOnlySpan<float> logits, int vocab, int k, Span<int> ids, Span<float> values);

    /// <summary>
    /// Nucleus mask at temperature 1: keeps the smallest set of most probable tokens (ties: lowest id) whose
    /// mass reaches <paramref name="topP"/>, measured in <see cref="FixedPointMass"/>; sets the rest to −∞.
    /// </summary>
    void MaskTopP(Span<float> logits, int vocab, float topP);

    /// <summary>Min-p mask at temperature 1: sets to −∞ tokens whose mass is below minP × the top token's.</summary>
    void MaskMinP(Span<float> logits, int vocab, float minP);

    /// <summary>
    /// Applies the repetition, frequency and presence penalties of <paramref name="parameters"/> in place, using
    /// each row's generated tokens: row r's tokens are history[historyOffsets[r] .. historyOffsets[r+1]).
    /// Per token: y = x &gt; 0 ? x · (1/rep) : x · rep; y = (float)(y − (double)freq · count); y −= presence.
    /// </summary>
    void ApplyPenalties(Span<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<int> history, ReadOnlySpan<int> historyOffsets);

    /// <summary>
    /// Draws one token per row: penalties (when history is given) → temperature → top-k → min-p → top-p → draw
    /// with Philox(seed, keys[r].RowId, keys[r].Step, 0) over the integer masses of the kept tokens (scanned by
    /// ascending id). The result depends only on (seed, row id, step, logits, history, parameters).
    /// </summary>
    void Sample(ReadOnlySpan<float> logits, int vocab, SamplingParameters parameters, ReadOnlySpan<SampleKey> keys, Span<int> tokens,
        ReadOnlySpan<int> history = default, ReadOnlySpan<int> historyOffsets = default);

    /// <summary>
    /// Guided-decoding fusion over each row's k candidates: fused = base + Σ_i w_i · s_i (Raw, ARGS) or
    /// base + Σ_i w_i · (s_i − mean_k s_i) (Centered, VAS). <paramref name="scores"/> holds m = weights.Length
    /// arrays [rows × k] one after another; each term is added as (float)((double)w_i · (s_i − mean_i) + acc) in order
    /// i = 0 … m−1, with mean_i a sequential double sum / k, so fused scores are bit-identical across backends.
    /// </summary>
    void FuseCandidates(ReadOnlySpan<float> baseScores, int k, ReadOnlySpan<float> scores, ReadOnlySpan<float> weights, FusionMode mode, Span<float> fused);

    /// <summary>
    /// Picks one of each row's k candidates from fused scores: argmax (lowest index on ties) at temperature 0,
    /// otherwise a draw from softmax(fused / temperature) in <see cref="FixedPointMass"/> with Philox(seed, key, 0).
    /// Writes the index within the row's candidates (0 … k−1).
    /// </summary>
    void SelectCandidates(ReadOnlySpan<float> fused, int k, float temperature, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> chosen);

    /// <summary>Writes each row's k candidate scores into its full logits row at the candidate ids (other tokens keep theirs).</summary>
    void ScatterCandidates(Span<float> logits, int vocab, ReadOnlySpan<int> candidateIds, int k, ReadOnlySpan<float> candidateScores);

    /// <summary>
    /// Metropolis–Hastings acceptance for a batch of chains (QAlign, Faria &amp; Smith 2025): Δ = the chain's
    /// <paramref name="terms"/> log-ratio terms ([chains × terms]) summed in order; accept iff u &lt; exp(clamp(Δ, −20, 20)),
    /// i.e. U &lt; ⌊2^32 · exp(Δ)⌋ with U the low 32 bits of Philox(seed, chain key, 0) and exp in <see cref="FixedPointMass"/>.
    /// </summary>
    void AcceptMetropolisHastings(ReadOnlySpan<float> logRatioTerms, int terms, ulong seed, ReadOnlySpan<SampleKey> keys, Span<bool> accepted);

    /// <summary>Index (into <paramref name="values"/>) of each group's maximum; groups are [offsets[g], offsets[g+1]); ties: lowest index.</summary>
    void GroupArgmax(ReadOnlySpan<float> values, ReadOnlySpan<int> groupOffsets, Span<int> winners);

    /// <summary>
    /// Answer vote per group: mass of each distinct answer id = Σ softmax(r/β) over its candidates (β &gt; 0), or
    /// a plain count when <paramref name="rewards"/> is empty (majority vote). Answer −1 (no answer) wins only
    /// when every candidate has −1; ties go to the lowest answer id. Writes the winning answer and its share of
    /// the group's mass. Masses are <see cref="FixedPointMass"/> integers, so the winner is exact.
    /// </summary>
    void Vote(ReadOnlySpan<int> answers, ReadOnlySpan<float> rewards, ReadOnlySpan<int> groupOffsets, float beta, Span<int> winners, Span<float> shares);

    /// <summary>
    /// Ancestor indices (absolute, into <paramref name="weights"/>) for each group of normalised weights: N per
    /// group of N. Weights are quantised to 2^31 fixed point and searched with integer prefix sums; randoms come
    /// from Philox(seed, keys[g], draw j).
    /// </summary>
    void Resample(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, ResamplingScheme scheme, ulong seed, ReadOnlySpan<SampleKey> keys, Span<int> ancestors);

    /// <summary>Effective sample size 1 / Σ w² of each group of normalised weights.</summary>
    void EffectiveSampleSize(ReadOnlySpan<float> weights, ReadOnlySpan<int> groupOffsets, Span<float> ess);
}
