using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace DecodeAlign.Models.Tests;

/// <summary>
/// The peer benchmark's GGUF files (tools/python/decodealign_tools/gguf.py, gguf_llama.py) parsed by an independent
/// reader written here from the specification (ggml docs/gguf.md, version 3): header, metadata, tensor table,
/// alignment and data, and the RoPE row permutation llama.cpp's llama architecture needs.
/// </summary>
public sealed class GgufWriterTests
{
    // A small untied Llama with grouped-query attention and half-split RoPE, so every conversion rule is exercised.
    private const string Script = """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import torch
        from decodealign_tools.llama import Llama, LlamaConfig
        from decodealign_tools.gguf_llama import write_llama_gguf
        torch.manual_seed(3)
        m = Llama(LlamaConfig(dim=16, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=24, vocab_size=11, max_seq_len=32,
                              rope_interleaved=False, tie_embeddings=False)).eval()
        write_llama_gguf(m, sys.argv[2], "tiny", bos=1, eos=2, pad=0)
        sd = {k: v.flatten().tolist() for k, v in m.state_dict().items()}
        sd["shapes"] = {k: list(v.shape) for k, v in m.state_dict().items()}
        json.dump(sd, open(sys.argv[3], "w"))
        """;

    [PythonTorchFact]
    public void Llama_gguf_parses_by_the_specification_with_the_weights_in_llama_cpp_layout()
    {
        var dir = Directory.CreateTempSubdirectory("decodealign-gguf-").FullName;
        var gguf = Path.Combine(dir, "tiny.gguf");
        var json = Path.Combine(dir, "state.json");
        var psi = new ProcessStartInfo(PythonTools.Python!) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", Script, Path.Combine(SharedModels.RepoRoot, "tools", "python"), gguf, json }) psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!)
        {
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err.Result);
        }
        using var state = JsonDocument.Parse(File.ReadAllText(json));
        float[] Weights(string name) => state.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetSingle()).ToArray();

        var file = SpecReader.Read(gguf);

        Assert.Equal("llama", file.Metadata["general.architecture"]);
        Assert.Equal(16u, file.Metadata["llama.embedding_length"]);
        Assert.Equal(4u, file.Metadata["llama.attention.head_count"]);
        Assert.Equal(2u, file.Metadata["llama.attention.head_count_kv"]);
        Assert.Equal(4u, file.Metadata["llama.rope.dimension_count"]);
        Assert.Equal(11, ((object[])file.Metadata["tokenizer.ggml.tokens"]).Length);
        Assert.Equal(1u, file.Metadata["tokenizer.ggml.bos_token_id"]);
        // Embedding, final norm and (untied) classifier, then 9 tensors per block.
        Assert.Equal(3 + (2 * 9), file.Tensors.Count);
        var ends = 0UL;
        foreach (var t in file.Tensors.OrderBy(t => t.Offset))
        {
            Assert.Equal(0UL, t.Offset % 32);
            Assert.True(t.Offset >= ends, $"{t.Name} overlaps the tensor before it");
            ends = t.Offset + 4 * t.Dims.Aggregate(1UL, (a, d) => a * d);
        }
        // Dims are innermost first: a [out, in] matrix is stored as (in, out).
        Assert.Equal([16UL, 11UL], file.Tensor("token_embd.weight").Dims);
        Assert.Equal([16UL, 8UL], file.Tensor("blk.0.attn_k.weight").Dims);
        Assert.Equal([24UL, 16UL], file.Tensor("blk.1.ffn_down.weight").Dims);
        Assert.Equal(Weights("tok_embeddings.weight"), file.Data("token_embd.weight"));
        Assert.Equal(Weights("output.weight"), file.Data("output.weight"));
        Assert.Equal(Weights("layers.1.attention.wv.weight"), file.Data("blk.1.attn_v.weight"));
        Assert.Equal(Weights("layers.0.feed_forward.w1.weight"), file.Data("blk.0.ffn_gate.weight"));

        // Half-split pairs (i, i + 2) of a 4-wide head become adjacent rows (2i, 2i + 1).
        static void AssertAdjacentRows(float[] hf, float[] stored, int heads)
        {
            const int inDim = 16, headSize = 4, half = headSize / 2;
            for (var h = 0; h < heads; h++)
                for (var i = 0; i < half; i++)
                    for (var s = 0; s < 2; s++)
                        Assert.Equal(hf.AsSpan(((h * headSize) + (s * half) + i) * inDim, inDim).ToArray(),
                                     stored.AsSpan(((h * headSize) + (2 * i) + s) * inDim, inDim).ToArray());
        }
        AssertAdjacentRows(Weights("layers.0.attention.wq.weight"), file.Data("blk.0.attn_q.weight"), 4);
        AssertAdjacentRows(Weights("layers.1.attention.wk.weight"), file.Data("blk.1.attn_k.weight"), 2);
        Directory.Delete(dir, true);
    }

    /// <summary>A GGUF v3 reader following docs/gguf.md only (little-endian; F32 tensor data).</summary>
    private sealed class SpecReader
    {
        public Dictionary<string, object> Metadata { get; } = [];

        public List<(string Name, ulong[] Dims, uint Type, ulong Offset)> Tensors { get; } = [];

        private byte[] _bytes = [];
        private long _dataStart;

        public (string Name, ulong[] Dims, uint Type, ulong Offset) Tensor(string name) => Tensors.Single(t => t.Name == name);

        public float[] Data(string name)
        {
            var t = Tensor(name);
            Assert.Equal(0u, t.Type);
            var count = (int)t.Dims.Aggregate(1UL, (a, d) => a * d);
            var start = (int)(_dataStart + (long)t.Offset);
            return Enumerable.Range(0, count).Select(i => BitConverter.ToSingle(_bytes, start + (4 * i))).ToArray();
        }

        public static SpecReader Read(string path)
        {
            var r = new SpecReader { _bytes = File.ReadAllBytes(path) };
            using var br = new BinaryReader(new MemoryStream(r._bytes));
            Assert.Equal("GGUF"u8.ToArray(), br.ReadBytes(4));
            Assert.Equal(3u, br.ReadUInt32());
            var tensorCount = br.ReadUInt64();
            var kvCount = br.ReadUInt64();
            for (var i = 0UL; i < kvCount; i++)
            {
                var key = String(br);
                r.Metadata[key] = Value(br, br.ReadUInt32());
            }
            for (var i = 0UL; i < tensorCount; i++)
            {
                var name = String(br);
                var dims = new ulong[br.ReadUInt32()];
                for (var d = 0; d < dims.Length; d++) dims[d] = br.ReadUInt64();
                r.Tensors.Add((name, dims, br.ReadUInt32(), br.ReadUInt64()));
            }
            var alignment = r.Metadata.TryGetValue("general.alignment", out var a) ? (long)(uint)a : 32;
            var pos = br.BaseStream.Position;
            r._dataStart = pos + ((alignment - (pos % alignment)) % alignment);
            Assert.All(r._bytes[(int)pos..(int)r._dataStart], b => Assert.Equal(0, b));
            return r;
        }

        private static string String(BinaryReader br) => Encoding.UTF8.GetString(br.ReadBytes(checked((int)br.ReadUInt64())));

        private static object Value(BinaryReader br, uint type) => type switch
        {
            0 => br.ReadByte(),
            1 => br.ReadSByte(),
            2 => br.ReadUInt16(),
            3 => br.ReadInt16(),
            4 => br.ReadUInt32(),
            5 => br.ReadInt32(),
            6 => br.ReadSingle(),
            7 => br.ReadByte() switch { 0 => false, 1 => true, var b => throw new InvalidDataException($"bool byte {b}") },
            8 => String(br),
            9 => Array(br),
            10 => br.ReadUInt64(),
            11 => br.ReadInt64(),
            12 => br.ReadDouble(),
            _ => throw new InvalidDataException($"metadata value type {type}"),
        };

        private static object[] Array(BinaryReader br)
        {
            var type = br.ReadUInt32();
            var items = new object[checked((int)br.ReadUInt64())];
            for (var i = 0; i < items.Length; i++) items[i] = Value(br, type);
            return items;
        }
    }
}
