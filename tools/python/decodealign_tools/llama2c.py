"""Reader for llama2.c "version 0" checkpoints (Karpathy's run.c format).

Layout: seven little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then
float32 arrays: token_embedding[V,dim], rms_att[L,dim], wq[L,dim,dim], wk[L,kv_dim,dim], wv[L,kv_dim,dim],
wo[L,dim,dim], rms_ffn[L,dim], w1[L,hidden,dim], w2[L,dim,hidden], w3[L,hidden,dim], rms_final[dim],
two legacy RoPE tables (freq_cis_real, freq_cis_imag) of seq_len*head_size/2 floats each, and - only when the
header's vocab_size is negative - an untied classifier wcls[V,dim]. Matrices are row-major [out, in], which is
nn.Linear's weight layout. run.c uses RoPE base 10000 on interleaved pairs and RMSNorm eps 1e-5.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch

from .llama import Llama, LlamaConfig

HEADER_FIELDS = ("dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len")
HEADER_BYTES = 4 * len(HEADER_FIELDS)


class CheckpointError(ValueError):
    """A llama2.c checkpoint that cannot be read; the message is one line, meant for the user."""


@dataclass
class Llama2cHeader:
    """The seven header ints; `shared_classifier` is the sign of the stored vocab_size (positive = tied)."""

    dim: int
    hidden_dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int
    seq_len: int
    shared_classifier: bool

    @property
    def head_size(self) -> int:
        return self.dim // self.n_heads

    def config(self) -> LlamaConfig:
        """The matching LlamaConfig (interleaved RoPE, base 10000, eps 1e-5, lm head)."""
        return LlamaConfig(dim=self.dim, n_layers=self.n_layers, n_heads=self.n_heads, n_kv_heads=self.n_kv_heads,
                           hidden_dim=self.hidden_dim, vocab_size=self.vocab_size, max_seq_len=self.seq_len,
                           norm_eps=1e-5, rope_theta=10000.0, rope_interleaved=True,
                           tie_embeddings=self.shared_classifier, head="lm")


def _layout(h: Llama2cHeader) -> List[Tuple[str, Tuple[int, ...]]]:
    """Names and shapes of the float32 arrays following the header, in file order."""
    d, hd, L, V = h.dim, h.hidden_dim, h.n_layers, h.vocab_size
    kv = h.n_kv_heads * h.head_size
    arrays = [
        ("token_embedding", (V, d)), ("rms_att", (L, d)), ("wq", (L, d, d)), ("wk", (L, kv, d)),
        ("wv", (L, kv, d)), ("wo", (L, d, d)), ("rms_ffn", (L, d)), ("w1", (L, hd, d)), ("w2", (L, d, hd)),
        ("w3", (L, hd, d)), ("rms_final", (d,)),
        ("freq_cis_real", (h.seq_len, h.head_size // 2)), ("freq_cis_imag", (h.seq_len, h.head_size // 2)),
    ]
    if not h.shared_classifier:
        arrays.append(("wcls", (V, d)))
    return arrays


def read_header(data: bytes, path: str = "checkpoint") -> Llama2cHeader:
    """Parse and sanity-check the header; raises CheckpointError with a one-line reason."""
    if len(data) < HEADER_BYTES:
        raise CheckpointError(f"{path}: truncated header: {len(data)} bytes, expected at least {HEADER_BYTES}")
    vals = struct.unpack("<7i", data[:HEADER_BYTES])
    fields = dict(zip(HEADER_FIELDS, vals))
    shared = fields["vocab_size"] > 0
    fields["vocab_size"] = abs(fields["vocab_size"])
    for name in HEADER_FIELDS:
        if fields[name] <= 0 or fields[name] > (1 << 20):
            raise CheckpointError(f"{path}: malformed header: {name}={vals[HEADER_FIELDS.index(name)]} "
                                  f"(not a llama2.c version-0 checkpoint?)")
    if fields["dim"] % fields["n_heads"] or fields["n_heads"] % fields["n_kv_heads"]:
        raise CheckpointError(f"{path}: malformed header: dim={fields['dim']}, n_heads={fields['n_heads']}, "
                              f"n_kv_heads={fields['n_kv_heads']} are not divisible")
    if (fields["dim"] // fields["n_heads"]) % 2:
        raise CheckpointError(f"{path}: malformed header: odd head size {fields['dim'] // fields['n_heads']}")
    return Llama2cHeader(shared_classifier=shared, **fields)


def read_arrays(data: bytes, path: str = "checkpoint") -> Tuple[Llama2cHeader, dict]:
    """Split a checkpoint's bytes into numpy float32 arrays by name (see the module docstring)."""
    h = read_header(data, path)
    arrays = {}
    off = HEADER_BYTES
    for name, shape in _layout(h):
        n = int(np.prod(shape)) * 4
        if off + n > len(data):
            raise CheckpointError(f"{path}: truncated: array '{name}' {list(shape)} needs {n} bytes at offset "
                                  f"{off}, only {len(data) - off} left (file {len(data)} bytes, expected "
                                  f"{expected_size(h)})")
        arrays[name] = np.frombuffer(data, dtype="<f4", count=n // 4, offset=off).reshape(shape)
        off += n
    if off != len(data):
        raise CheckpointError(f"{path}: malformed: {len(data) - off} unexpected trailing bytes after the last "
                              f"array (file {len(data)} bytes, expected {off} for dim={h.dim} "
                              f"hidden_dim={h.hidden_dim} n_layers={h.n_layers} vocab_size={h.vocab_size} "
                              f"seq_len={h.seq_len})")
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise CheckpointError(f"{path}: malformed: array '{name}' holds NaN or infinite values")
    return h, arrays


def expected_size(h: Llama2cHeader) -> int:
    """File size in bytes implied by a header."""
    return HEADER_BYTES + 4 * sum(int(np.prod(s)) for _, s in _layout(h))


def load_llama2c(path: str) -> Tuple[Llama, Llama2cHeader]:
    """Load a llama2.c version-0 checkpoint into a Llama module (eval mode, float32)."""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: checkpoint file not found")
    with open(path, "rb") as f:
        data = f.read()
    h, a = read_arrays(data, path)
    model = Llama(h.config())
    t = lambda x: torch.from_numpy(np.array(x, dtype=np.float32))  # copy: frombuffer views are read-only
    sd = {"tok_embeddings.weight": t(a["token_embedding"]), "norm.weight": t(a["rms_final"])}
    for i in range(h.n_layers):
        p = f"layers.{i}."
        sd[p + "attention_norm.weight"] = t(a["rms_att"][i])
        sd[p + "attention.wq.weight"] = t(a["wq"][i])
        sd[p + "attention.wk.weight"] = t(a["wk"][i])
        sd[p + "attention.wv.weight"] = t(a["wv"][i])
        sd[p + "attention.wo.weight"] = t(a["wo"][i])
        sd[p + "ffn_norm.weight"] = t(a["rms_ffn"][i])
        sd[p + "feed_forward.w1.weight"] = t(a["w1"][i])
        sd[p + "feed_forward.w2.weight"] = t(a["w2"][i])
        sd[p + "feed_forward.w3.weight"] = t(a["w3"][i])
    sd["output.weight"] = sd["tok_embeddings.weight"] if h.shared_classifier else t(a["wcls"])
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model, h


def write_llama2c(model: Llama, path: str) -> None:
    """Write a Llama ("lm" head, interleaved RoPE) as a llama2.c version-0 checkpoint (used to test the reader
    with untied classifiers; RoPE tables are written as run.c's legacy export did)."""
    cfg = model.cfg
    if cfg.head != "lm" or not cfg.rope_interleaved:
        raise ValueError("llama2.c checkpoints hold an lm head with interleaved RoPE")
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    vocab = cfg.vocab_size if cfg.tie_embeddings else -cfg.vocab_size
    L = cfg.n_layers
    stack = lambda key: np.stack([sd[f"layers.{i}.{key}"] for i in range(L)])
    hs = cfg.head_size
    ang = np.outer(np.arange(cfg.max_seq_len), 1.0 / (cfg.rope_theta ** (np.arange(0, hs, 2) / hs)))
    parts = [sd["tok_embeddings.weight"], stack("attention_norm.weight"), stack("attention.wq.weight"),
             stack("attention.wk.weight"), stack("attention.wv.weight"), stack("attention.wo.weight"),
             stack("ffn_norm.weight"), stack("feed_forward.w1.weight"), stack("feed_forward.w2.weight"),
             stack("feed_forward.w3.weight"), sd["norm.weight"], np.cos(ang), np.sin(ang)]
    if not cfg.tie_embeddings:
        parts.append(sd["output.weight"])
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", cfg.dim, cfg.hidden_dim, cfg.n_layers, cfg.n_heads, cfg.n_kv_heads, vocab,
                            cfg.max_seq_len))
        for p in parts:
            f.write(np.ascontiguousarray(p, dtype="<f4").tobytes())
