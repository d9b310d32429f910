using DecodeAlign.Models.Rewards;
using DecodeAlign.Models.Tokenization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DecodeAlign.Models.Onnx;

/// <summary>
/// A reward model exported as a Hugging Face sequence classifier (<c>input_ids</c>, <c>attention_mask</c>, optional
/// <c>token_type_ids</c> → <c>logits</c> [batch, labels]) with its own tokenizer and a prompt/response template. The
/// reward is the single output, a chosen label's logit, or the difference of two labels' logits.
/// </summary>
public sealed class OnnxSequenceClassifierRewardModel : IRewardModel
{
    private readonly InferenceSession _session;
    private readonly RewardModelOptions _options;
    private readonly string _inputIds, _mask, _output;
    private readonly string? _tokenTypes;
    private readonly bool _idsAreInt32;
    private readonly int _labels;

    private OnnxSequenceClassifierRewardModel(InferenceSession session, string source, ITokenizer tokenizer, RewardModelOptions options)
    {
        _session = session;
        Source = source;
        Tokenizer = tokenizer;
        _options = options;
        var inputs = session.InputMetadata;
        _inputIds = inputs.ContainsKey("input_ids") ? "input_ids" : throw new ModelLoadException(source, $"the classifier has no input 'input_ids' (inputs are: {string.Join(", ", inputs.Keys)}).");
        _mask = inputs.ContainsKey("attention_mask") ? "attention_mask" : throw new ModelLoadException(source, $"the classifier has no input 'attention_mask' (inputs are: {string.Join(", ", inputs.Keys)}).");
        _tokenTypes = inputs.ContainsKey("token_type_ids") ? "token_type_ids" : null;
        var extra = inputs.Keys.Except([_inputIds, _mask, _tokenTypes ?? ""]).ToArray();
        if (extra.Length > 0) throw new ModelLoadException(source, $"the classifier has inputs DecodeAlign cannot fill: {string.Join(", ", extra)}.");
        _idsAreInt32 = inputs[_inputIds].ElementDataType == TensorElementType.Int32;
        _output = session.OutputMetadata.ContainsKey("logits") ? "logits" : session.OutputMetadata.Keys.First();
        var dims = session.OutputMetadata[_output].Dimensions;
        if (dims.Length != 2) throw new ModelLoadException(source, $"output '{_output}' has rank {dims.Length}; a sequence classifier outputs [batch, labels].");
        if (session.OutputMetadata[_output].ElementDataType != TensorElementType.Float)
            throw new ModelLoadException(source, $"output '{_output}' is {session.OutputMetadata[_output].ElementDataType}; expected float32.");
        _labels = dims[1];
        if (_labels > 0)
        {
            foreach (var label in new[] { options.Label, options.ContrastLabel })
                if (label >= _labels) throw new ModelLoadException(source, $"label {label} was chosen but the classifier has {_labels} labels.");
            if (options.Label is null && _labels > 2) throw new ModelLoadException(source, $"the classifier has {_labels} labels; choose the reward label (and optionally a contrast label).");
        }
    }

    /// <summary>Loads a folder with model.onnx (or the given .onnx file) and the tokenizer beside it.</summary>
    public static OnnxSequenceClassifierRewardModel Load(string path, RewardModelOptions? options = null)
    {
        options ??= new RewardModelOptions();
        options.Validate();
        var file = OnnxDecoder.ResolveModelFile(path, out var folder);
        var tokenizer = TextTokenizer.Load(folder);
        var session = OnnxSessionFactory.Create(file, options.Onnx);
        try
        {
            return new OnnxSequenceClassifierRewardModel(session, file, tokenizer, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string Source { get; }

    /// <summary>The classifier's own tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <inheritdoc />
    public float[] Score(IReadOnlyList<RewardQuery> queries, CancellationToken cancellationToken = default)
    {
        var rewards = new float[queries.Count];
        for (var start = 0; start < queries.Count; start += _options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = Math.Min(_options.BatchSize, queries.Count - start);
            var encoded = Enumerable.Range(start, n).Select(i => Encode(queries[i])).ToArray();
            var len = encoded.Max(e => e.Length);
            var ids = new long[n * len];
            var mask = new long[n * len];
            var pad = Tokenizer.Special.Pad ?? 0;
            for (var r = 0; r < n; r++)
                for (var j = 0; j < len; j++)
                {
                    var real = j < encoded[r].Length;
                    ids[r * len + j] = real ? encoded[r][j] : pad;
                    mask[r * len + j] = real ? 1 : 0;
                }
            long[] shape = [n, len];
            using var idsValue = _idsAreInt32
                ? OrtValue.CreateTensorValueFromMemory(ids.Select(x => (int)x).ToArray(), shape)
                : OrtValue.CreateTensorValueFromMemory(ids, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = _tokenTypes is null ? null : OrtValue.CreateTensorValueFromMemory(new long[n * len], shape);
            var names = new List<string> { _inputIds, _mask };
            var values = new List<OrtValue> { idsValue, maskValue };
            if (typesValue is not null)
            {
                names.Add(_tokenTypes!);
                values.Add(typesValue);
            }
            using var runOptions = new RunOptions();
            using var reg = cancellationToken.Register(() => runOptions.Terminate = true);
            IDisposableReadOnlyCollection<OrtValue> outputs;
            try
            {
                outputs = _session.Run(runOptions, names, values, [_output]);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The reward model run was cancelled.", cancellationToken);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new ModelException($"{Source}: ONNX Runtime failed scoring a batch of {n}×{len} tokens: {ex.Message}", ex);
            }
            using (outputs)
            {
                var logits = outputs[0].GetTensorDataAsSpan<float>();
                var labels = logits.Length / n;
                for (var r = 0; r < n; r++)
                {
                    var row = logits.Slice(r * labels, labels);
                    var reward = _options.Label is int l
                        ? row[l] - (_options.ContrastLabel is int c ? row[c] : 0f)
                        : labels == 1 ? row[0] : row[1] - row[0];
                    if (!float.IsFinite(reward)) throw new NonFiniteOutputException(_output, r, Source);
                    rewards[start + r] = reward;
                }
            }
        }
        return rewards;
    }

    private int[] Encode(RewardQuery q)
    {
        var ids = Tokenizer.Encode(_options.Format(q), addSpecialTokens: true);
        if (_options.AppendEos && Tokenizer.Special.Eos is int eos) ids = [.. ids, eos];
        if (ids.Length == 0) throw new ModelException($"{Source}: the reward input for an empty prompt and response has no tokens.");
        return ids;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
