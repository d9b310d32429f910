using DecodeAlign.Models;
using DecodeAlign.Models.Onnx;

namespace DecodeAlign.Models.Tests;

/// <summary>
/// KV-cache plumbing against the real ONNX Runtime GenAI export layout (fp16, contrib ops, random weights):
/// every cache operation must give the same numbers as recomputing the sequence from scratch.
/// </summary>
public sealed class TinyRandomLlamaTests
{
    private const float Fp16Tolerance = 2e-2f;
    private static readonly Lazy<OnnxCausalLm> Model = new(() => OnnxCausalLm.Load(SharedModels.PathOf("tiny-random-llama-fp16"), new OnnxModelOptions { IntraOpThreads = 1 }));

    private static readonly int[] Sequence = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 13, 3869, 471, 263];

    /// <summary>Next-token logits for <paramref name="tokens"/> computed in one uncached forward pass.</summary>
    private static float[] Uncached(ReadOnlySpan<int> tokens)
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(tokens);
        return s.Forward().Row(0).ToArray();
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        for (var i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tol, $"{what}: max |Δlogit| = {worst} > {tol}");
    }

    private static int Argmax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    [SharedFact]
    public void Layout_is_discovered_from_graph_and_genai_config()
    {
        var info = Model.Value.Info;
        var kv = Model.Value.KvShape;
        Assert.Equal(32000, info.VocabSize);
        Assert.Equal(2, kv.NumLayers);
        Assert.Equal(1, kv.NumKvHeads);
        Assert.Equal(16, kv.HeadSize);
        Assert.Equal(2048, info.ContextLength);
        Assert.True(kv.IsHalf);
        Assert.Equal([1], info.EosTokenIds);
    }

    [SharedFact]
    public void Step_by_step_cached_decoding_matches_one_uncached_forward()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 3));
        s.Forward();
        for (var t = 3; t < Sequence.Length; t++)
        {
            s.Append(0, Sequence.AsSpan(t, 1));
            var cached = s.Forward().Row(0);
            AssertClose(Uncached(Sequence.AsSpan(0, t + 1)), cached, Fp16Tolerance, $"position {t}");
        }
        Assert.Equal(Sequence.Length, s.Telemetry.TokensComputed);
        Assert.Equal(Sequence.Length - 2, s.Telemetry.ModelCalls);
    }

    [SharedFact]
    public void Batch_of_prompts_of_different_lengths_gives_the_same_tokens_as_each_alone()
    {
        int[][] prompts = [Sequence[..3], Sequence[..9], Sequence[..1], Sequence[..6]];
        const int steps = 12;
        var alone = prompts.Select(p => GreedyAlone(p, steps)).ToArray();

        using var batch = Model.Value.CreateSession();
        foreach (var p in prompts) batch.AddRow(p);
        var generated = prompts.Select(_ => new List<int>()).ToArray();
        for (var step = 0; step < steps; step++)
        {
            var logits = batch.Forward();
            var next = new int[prompts.Length];
            for (var r = 0; r < prompts.Length; r++) generated[r].Add(next[r] = Argmax(logits.Row(r)));
            batch.AppendToAll(next);
        }
        for (var r = 0; r < prompts.Length; r++) Assert.Equal(alone[r], generated[r]);
        Assert.True(batch.Telemetry.PaddingComputed > 0, "rows of different lengths should have needed padding");
    }

    private static List<int> GreedyAlone(int[] prompt, int steps)
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(prompt);
        var output = new List<int>();
        for (var i = 0; i < steps; i++)
        {
            var next = Argmax(s.Forward().Row(0));
            output.Add(next);
            s.Append(0, [next]);
        }
        return output;
    }

    [SharedFact]
    public void Fork_then_continue_each_row_matches_recomputing()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 5));
        s.Forward();
        s.Select([0, 0, 0]);
        int[][] continuations = [[700, 701], [9, 10], [31999, 3]];
        for (var r = 0; r < 3; r++) s.Append(r, continuations[r]);
        var logits = s.Forward();
        for (var r = 0; r < 3; r++)
            AssertClose(Uncached([.. Sequence[..5], .. continuations[r]]), logits.Row(r), Fp16Tolerance, $"fork row {r}");
    }

    [SharedFact]
    public void Select_reorders_drops_and_duplicates_rows_with_their_cache()
    {
        using var s = Model.Value.CreateSession();
        int[][] prompts = [Sequence[..4], Sequence[2..9], Sequence[5..7]];
        foreach (var p in prompts) s.AddRow(p);
        s.Forward();
        s.Select([2, 0, 2]);
        Assert.Equal(prompts[2], s.GetTokens(0).ToArray());
        Assert.Equal(prompts[0], s.GetTokens(1).ToArray());
        s.AppendToAll([11, 12, 13]);
        var logits = s.Forward();
        AssertClose(Uncached([.. prompts[2], 11]), logits.Row(0), Fp16Tolerance, "row 0");
        AssertClose(Uncached([.. prompts[0], 12]), logits.Row(1), Fp16Tolerance, "row 1");
        AssertClose(Uncached([.. prompts[2], 13]), logits.Row(2), Fp16Tolerance, "row 2");
    }

    [SharedFact]
    public void Dropping_rows_in_place_keeps_each_remaining_row_and_its_cache()
    {
        using var s = Model.Value.CreateSession();
        int[][] prompts = [Sequence[..4], Sequence[2..9], Sequence[5..7], Sequence[..11]];
        foreach (var p in prompts) s.AddRow(p);
        s.Forward();
        s.Select([0, 2, 3]); // drops row 1: rows 2 and 3 move down within the same buffers
        s.Select([1, 2]); // drops the new row 0: every kept row moves
        Assert.Equal(prompts[2], s.GetTokens(0).ToArray());
        Assert.Equal(prompts[3], s.GetTokens(1).ToArray());
        s.AppendToAll([21, 22]);
        var logits = s.Forward();
        AssertClose(Uncached([.. prompts[2], 21]), logits.Row(0), Fp16Tolerance, "row 0");
        AssertClose(Uncached([.. prompts[3], 22]), logits.Row(1), Fp16Tolerance, "row 1");
    }

    [SharedFact]
    public void A_session_reusing_a_disposed_sessions_buffers_matches_recomputing()
    {
        using (var first = Model.Value.CreateSession())
        {
            first.AddRow(Sequence.AsSpan(0, 12));
            first.AddRow(Sequence.AsSpan(0, 9));
            first.Forward();
        }
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(3, 4));
        AssertClose(Uncached(Sequence.AsSpan(3, 4)), s.Forward().Row(0), Fp16Tolerance, "fresh row on reused buffers");
        s.Append(0, [17]);
        AssertClose(Uncached([.. Sequence[3..7], 17]), s.Forward().Row(0), Fp16Tolerance, "next step");
    }

    [SharedFact]
    public void Truncate_then_regenerate_matches_recomputing()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 4));
        s.AddRow(Sequence.AsSpan(0, 12));
        s.Forward();
        s.Truncate(1, 6);
        Assert.Equal(Sequence[..6], s.GetTokens(1).ToArray());
        AssertClose(Uncached(Sequence.AsSpan(0, 6)), s.Forward().Row(1), Fp16Tolerance, "after truncate");
        s.Append(1, [42, 43]);
        s.Append(0, [44]);
        var logits = s.Forward();
        AssertClose(Uncached([.. Sequence[..6], 42, 43]), logits.Row(1), Fp16Tolerance, "regenerated suffix");
        AssertClose(Uncached([.. Sequence[..4], 44]), logits.Row(0), Fp16Tolerance, "untouched row");
        // Truncate repeatedly so holes accumulate and the cache compacts; results must not change.
        for (var i = 0; i < 40; i++)
        {
            s.Truncate(1, 5);
            s.Append(1, [100 + i, 200 + i, 300 + i]);
            s.Append(0, [7]);
            s.Forward();
        }
        var final = s.Forward();
        AssertClose(Uncached([.. Sequence[..5], 139, 239, 339]), final.Row(1), Fp16Tolerance, "after many truncations");
        AssertClose(Uncached([.. Sequence[..4], 44, .. Enumerable.Repeat(7, 40)]), final.Row(0), Fp16Tolerance, "long row beside truncations");
    }

    [SharedFact]
    public void Truncating_pending_tokens_back_to_the_cached_length_keeps_the_row_runnable()
    {
        // A lookahead that appended one token and was cut back before running it: the row holds exactly its cached
        // tokens again, and its output must be available (re-run if need be) — DeAL's candidates end this way.
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 5));
        s.Forward();
        s.Append(0, [42]);
        s.Truncate(0, 5);
        AssertClose(Uncached(Sequence.AsSpan(0, 5)), s.Forward().Row(0), Fp16Tolerance, "after cutting the pending token");
        s.Append(0, [42, 43]);
        s.Forward();
        s.Append(0, [44]);
        s.Truncate(0, 7);
        AssertClose(Uncached([.. Sequence[..5], 42, 43]), s.Forward().Row(0), Fp16Tolerance, "cut back to a run token");
    }

    [SharedFact]
    public void Candidates_are_scored_in_one_call_without_changing_the_session()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 3));
        s.AddRow(Sequence.AsSpan(0, 7));
        var before = s.Forward().Values.ToArray();
        var calls = s.Telemetry.ModelCalls;
        var outputs = s.ForwardCandidates([1, 0], [5, 6, 7, 8, 9, 10]);
        Assert.Equal(calls + 1, s.Telemetry.ModelCalls);
        Assert.Equal(6, outputs.Rows);
        AssertClose(Uncached([.. Sequence[..7], 6]), outputs.Row(1), Fp16Tolerance, "row 1 + candidate 6");
        AssertClose(Uncached([.. Sequence[..3], 9]), outputs.Row(4), Fp16Tolerance, "row 0 + candidate 9");
        Assert.Equal(before, s.Forward().Values.ToArray());
        Assert.Equal(Sequence[..3], s.GetTokens(0).ToArray());
    }

    [SharedFact]
    public void Appending_a_scored_candidate_reuses_its_computation_and_cache()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 3));
        s.AddRow(Sequence.AsSpan(0, 7));
        s.Forward();
        s.ForwardCandidates([0, 1], [5, 6, 7, 8, 9, 10]);
        var calls = s.Telemetry.ModelCalls;
        s.AppendToAll([6, 10]);
        var served = s.Forward();
        Assert.Equal(calls, s.Telemetry.ModelCalls);
        AssertClose(Uncached([.. Sequence[..3], 6]), served.Row(0), Fp16Tolerance, "row 0 served from its candidate");
        AssertClose(Uncached([.. Sequence[..7], 10]), served.Row(1), Fp16Tolerance, "row 1 served from its candidate");
        // The copied key/value slot must be the candidate's: the next real step depends on it.
        s.AppendToAll([11, 12]);
        var next = s.Forward();
        Assert.Equal(calls + 1, s.Telemetry.ModelCalls);
        AssertClose(Uncached([.. Sequence[..3], 6, 11]), next.Row(0), Fp16Tolerance, "row 0 after the reused slot");
        AssertClose(Uncached([.. Sequence[..7], 10, 12]), next.Row(1), Fp16Tolerance, "row 1 after the reused slot");
        // A token that was not a candidate is run by the model.
        s.ForwardCandidates([0], [1, 2]);
        s.Append(0, [3]);
        var before = s.Telemetry.ModelCalls;
        AssertClose(Uncached([.. Sequence[..3], 6, 11, 3]), s.Forward().Row(0), Fp16Tolerance, "non-candidate token");
        Assert.Equal(before + 1, s.Telemetry.ModelCalls);
    }

    [SharedFact]
    public void Successive_candidate_calls_reuse_the_committed_batch_and_match_recomputing()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 3));
        s.AddRow(Sequence.AsSpan(0, 7));
        s.Forward();
        int[][] rounds = [[5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16], [17, 18, 19, 20, 21, 22], [23, 24, 25, 26, 27, 28]];
        List<int> row0 = [.. Sequence[..3]], row1 = [.. Sequence[..7]];
        for (var t = 0; t < rounds.Length; t++)
        {
            var outputs = s.ForwardCandidates([0, 1], rounds[t]);
            AssertClose(Uncached([.. row0, rounds[t][2]]), outputs.Row(2), Fp16Tolerance, $"round {t}, row 0 + candidate");
            AssertClose(Uncached([.. row1, rounds[t][4]]), outputs.Row(4), Fp16Tolerance, $"round {t}, row 1 + candidate");
            // Row 1 skips round 1, so its copies carry an empty slot into the next call.
            s.Append(0, [rounds[t][t % 3]]);
            row0.Add(rounds[t][t % 3]);
            if (t == 1) continue;
            s.Append(1, [rounds[t][3 + t % 3]]);
            row1.Add(rounds[t][3 + t % 3]);
        }
        var final = s.Forward();
        AssertClose(Uncached([.. row0]), final.Row(0), Fp16Tolerance, "row 0 after the rounds");
        AssertClose(Uncached([.. row1]), final.Row(1), Fp16Tolerance, "row 1 after the rounds");
    }

    [SharedFact]
    public void Prompt_over_the_context_length_is_rejected_with_both_numbers()
    {
        using var s = Model.Value.CreateSession();
        var ex = Assert.Throws<ContextLengthExceededException>(() => s.AddRow(new int[2049]));
        Assert.Contains("2049", ex.Message);
        Assert.Contains("2048", ex.Message);
        Assert.Equal(0, s.RowCount);
    }

    [SharedFact]
    public void Cancelled_forward_leaves_the_session_usable()
    {
        using var s = Model.Value.CreateSession();
        s.AddRow(Sequence.AsSpan(0, 4));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => s.Forward(cts.Token));
        AssertClose(Uncached(Sequence.AsSpan(0, 4)), s.Forward().Row(0), Fp16Tolerance, "after cancel");
    }

    [SharedFact]
    public void Concurrent_sessions_on_one_model_do_not_interfere()
    {
        var expected = Enumerable.Range(1, 6).Select(n => Uncached(Sequence.AsSpan(0, n + 4))).ToArray();
        Parallel.For(0, 6, i =>
        {
            using var s = Model.Value.CreateSession();
            s.AddRow(Sequence.AsSpan(0, i + 5));
            AssertClose(expected[i], s.Forward().Row(0), Fp16Tolerance, $"thread {i}");
        });
    }
}
