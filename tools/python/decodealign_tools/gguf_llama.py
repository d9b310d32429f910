"""Writes a `Llama` decoder (decodealign_tools.llama) as a GGUF file llama.cpp loads with its "llama" architecture.

Weights are stored F32, so llama.cpp computes with exactly the numbers ONNX Runtime does. llama.cpp's llama
architecture rotates *adjacent* pairs (2i, 2i+1) of each head (Meta's layout, llama2.c's too). A model with
rope_interleaved=False rotates (i, i + head_size/2) instead, so its wq/wk rows are permuted into the adjacent
layout (the same permutation llama.cpp's convert_hf_to_gguf.py applies to Hugging Face checkpoints); rotating the
permuted rows pairwise gives the same attention scores, because q·k is unchanged by permuting q and k alike.

The vocabulary is a placeholder SentencePiece ("llama") table: the peer harness feeds token ids, never text, but
llama.cpp needs a token list whose length is the vocabulary size, and BOS/EOS ids for its own bookkeeping.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .gguf import ARRAY, BOOL, FLOAT32, INT32, STRING, UINT32, GgufWriter
from .llama import Llama

TOKEN_NORMAL, TOKEN_CONTROL = 1, 3


def adjacent_rope_rows(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Reorders the rows of a [n_heads*head_size, in] projection from half-split to adjacent RoPE pairs:
    new row 2i+s of a head is old row s*head_size/2 + i."""
    out_dim = w.shape[0]
    half = out_dim // n_heads // 2
    return w.reshape(n_heads, 2, half, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_llama_gguf(model: Llama, path: str, name: str, bos: Optional[int], eos: Optional[int],
                     pad: Optional[int] = None, context_length: Optional[int] = None) -> int:
    """Writes `model` (an "lm" head) to `path`; returns the bytes of weights stored."""
    cfg = model.cfg
    if cfg.head != "lm":
        raise ValueError("only language models (head 'lm') convert to GGUF")
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    w = GgufWriter()
    w.add("general.architecture", STRING, "llama")
    w.add("general.name", STRING, name)
    w.add("general.file_type", UINT32, 0)  # all F32
    w.add("llama.context_length", UINT32, int(context_length or cfg.max_seq_len))
    w.add("llama.embedding_length", UINT32, cfg.dim)
    w.add("llama.block_count", UINT32, cfg.n_layers)
    w.add("llama.feed_forward_length", UINT32, cfg.hidden_dim)
    w.add("llama.rope.dimension_count", UINT32, cfg.head_size)
    w.add("llama.attention.head_count", UINT32, cfg.n_heads)
    w.add("llama.attention.head_count_kv", UINT32, cfg.n_kv_heads)
    w.add("llama.attention.layer_norm_rms_epsilon", FLOAT32, float(cfg.norm_eps))
    w.add("llama.rope.freq_base", FLOAT32, float(cfg.rope_theta))
    w.add("llama.vocab_size", UINT32, cfg.vocab_size)

    special = {i for i in (bos, eos, pad) if i is not None}
    names = {bos: "<s>", eos: "</s>", pad: "<pad>"}
    tokens = [names[i] if i in special else f"<t{i}>" for i in range(cfg.vocab_size)]
    w.add("tokenizer.ggml.model", STRING, "llama")
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, tokens))
    w.add("tokenizer.ggml.scores", ARRAY, (FLOAT32, [0.0] * cfg.vocab_size))
    w.add("tokenizer.ggml.token_type", ARRAY,
          (INT32, [TOKEN_CONTROL if i in special else TOKEN_NORMAL for i in range(cfg.vocab_size)]))
    for key, value in (("bos_token_id", bos), ("eos_token_id", eos), ("padding_token_id", pad)):
        if value is not None:
            w.add(f"tokenizer.ggml.{key}", UINT32, int(value))
    w.add("tokenizer.ggml.add_bos_token", BOOL, False)

    def rope_rows(a: np.ndarray, heads: int) -> np.ndarray:
        return a if cfg.rope_interleaved else adjacent_rope_rows(a, heads)

    w.add_tensor("token_embd.weight", sd["tok_embeddings.weight"])
    w.add_tensor("output_norm.weight", sd["norm.weight"])
    if not cfg.tie_embeddings:
        w.add_tensor("output.weight", sd["output.weight"])  # absent: llama.cpp reuses token_embd
    for i in range(cfg.n_layers):
        p, b = f"layers.{i}.", f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", sd[p + "attention_norm.weight"])
        w.add_tensor(b + "attn_q.weight", rope_rows(sd[p + "attention.wq.weight"], cfg.n_heads))
        w.add_tensor(b + "attn_k.weight", rope_rows(sd[p + "attention.wk.weight"], cfg.n_kv_heads))
        w.add_tensor(b + "attn_v.weight", sd[p + "attention.wv.weight"])
        w.add_tensor(b + "attn_output.weight", sd[p + "attention.wo.weight"])
        w.add_tensor(b + "ffn_norm.weight", sd[p + "ffn_norm.weight"])
        w.add_tensor(b + "ffn_gate.weight", sd[p + "feed_forward.w1.weight"])
        w.add_tensor(b + "ffn_up.weight", sd[p + "feed_forward.w3.weight"])
        w.add_tensor(b + "ffn_down.weight", sd[p + "feed_forward.w2.weight"])
    w.write(path)
    return 4 * sum(p.numel() for p in model.parameters())  # parameters() counts a tied matrix once
