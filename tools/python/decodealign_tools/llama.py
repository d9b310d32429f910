"""A Llama-style decoder in PyTorch, shared by the llama2.c importer and the forge (models trained from scratch).

Architecture (Touvron et al. 2023, "Llama 2"; llama2.c's run.c is the bit-level reference we match):

* token embedding -> n_layers x [x += Attn(RMSNorm(x)); x += FFN(RMSNorm(x))] -> RMSNorm -> head
* RMSNorm(x) = x * rsqrt(mean(x^2) + eps) * w                                  (Zhang & Sennrich 2019)
* Attention: grouped-query (Ainslie et al. 2023), n_heads query heads share n_kv_heads key/value heads;
  query head h reads kv head h // (n_heads / n_kv_heads), exactly as llama2.c's `h / kv_mul`.
  scores = q k^T / sqrt(head_size); causal AND attention_mask; softmax; @ v.
* RoPE (Su et al. 2021): for pair i of a head, theta_i = rope_theta^(-2i/head_size), angle = pos * theta_i,
  (a, b) -> (a cos - b sin, a sin + b cos). The pair is (2i, 2i+1) when rope_interleaved (llama2.c, Meta's
  original code) or (i, i + head_size/2) otherwise (Hugging Face's "rotate_half" layout).
* FFN: SwiGLU (Shazeer 2020): w2(silu(w1 x) * w3 x).
* Heads: "lm" logits [B,S,vocab] (optionally tied to the embedding), "score" one scalar per position [B,S]
  (a reward model scoring every prefix), "value" one value per possible next token [B,S,vocab].

The forward takes the ONNX Runtime GenAI / Optimum decoder signature (input_ids, attention_mask over past+new,
position_ids, past key/values) so that the same code path is trained, tested and exported.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

HEADS = ("lm", "score", "value")

KeyValue = Tuple[torch.Tensor, torch.Tensor]


@dataclass
class LlamaConfig:
    """Hyper-parameters of the decoder.

    `head` selects the output: "lm" (logits), "score" (scalar per position) or "value" (vocab-wide values).
    `tie_embeddings` only applies to the "lm" head: the classifier reuses the token embedding matrix.
    """

    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    hidden_dim: int
    vocab_size: int
    max_seq_len: int
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    rope_interleaved: bool = False
    tie_embeddings: bool = True
    head: str = "lm"

    def __post_init__(self) -> None:
        if self.dim % self.n_heads != 0:
            raise ValueError(f"dim {self.dim} is not a multiple of n_heads {self.n_heads}")
        if self.n_heads % self.n_kv_heads != 0:
            raise ValueError(f"n_heads {self.n_heads} is not a multiple of n_kv_heads {self.n_kv_heads}")
        if (self.dim // self.n_heads) % 2 != 0:
            raise ValueError(f"head size {self.dim // self.n_heads} must be even for RoPE")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")

    @property
    def head_size(self) -> int:
        """Size of one attention head (dim / n_heads)."""
        return self.dim // self.n_heads

    def to_dict(self) -> dict:
        """Plain-dict form (JSON-serialisable), e.g. to store beside a checkpoint."""
        return asdict(self)


class _ReshapeKeepingLeading(torch.autograd.Function):
    """Export-only: Reshape with a constant target whose leading 0s copy the input's dims (ONNX Reshape semantics)."""

    @staticmethod
    def forward(ctx, x, keep, tail):  # pragma: no cover - only traced
        return x.reshape(*x.shape[:keep], *tail)

    @staticmethod
    def symbolic(g, x, keep, tail):
        dims = [0] * keep + list(tail)
        if -1 not in dims:
            # The last kept dim follows from the others; torch's exporter rejects 0s without a -1.
            dims[keep - 1] = -1
        with warnings.catch_warnings():
            # torch 1.13 marks its own patched g.op as deprecated for 1.14; it is the documented symbolic API here.
            warnings.simplefilter("ignore", FutureWarning)
            shape = g.op("Constant", value_t=torch.tensor(dims, dtype=torch.int64))
            return g.op("Reshape", x, shape)


def reshape_keeping_leading(x: torch.Tensor, keep: int, *tail: int) -> torch.Tensor:
    """x.reshape(*x.shape[:keep], *tail) (one entry of tail may be -1).

    Why: a traced `x.reshape(x.shape[0], ...)` exports as Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and
    ONNX Runtime runs those shape ops on every call (about half of a small model's per-token time at batch 1).
    In export this is one Reshape with a constant [0]*keep + tail (the last 0 a -1 where tail has none); eager (training) keeps plain reshape.
    """
    if torch.onnx.is_in_onnx_export():
        return _ReshapeKeepingLeading.apply(x, keep, tuple(tail))
    return x.reshape(*x.shape[:keep], *tail)


class RMSNorm(nn.Module):
    """RMSNorm: x * rsqrt(mean(x^2) + eps) * weight (no mean subtraction, no bias)."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Same order of operations as llama2.c's rmsnorm: w * (x * 1/sqrt(ss + eps)).
        # Statistics in float32 when training in half precision; the tracer would record even a no-op cast, so
        # an fp32 export skips it.
        xf = x if x.dtype == torch.float32 else x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * (y if y.dtype == x.dtype else y.type_as(x))


def rope_inv_freq(head_size: int, theta: float) -> torch.Tensor:
    """theta^(-2i/head_size) for i in [0, head_size/2), as float32 (computed in float64, then rounded once)."""
    i = torch.arange(0, head_size, 2, dtype=torch.float64)
    return (1.0 / (theta ** (i / head_size))).to(torch.float32)


def rope_partner(head_size: int, interleaved: bool) -> torch.Tensor:
    """Index of each lane's rotation partner: (2i, 2i+1) swapped when interleaved, else i <-> i + head_size/2."""
    lanes = torch.arange(head_size)
    if interleaved:
        return lanes ^ 1
    return (lanes + head_size // 2) % head_size


def rope_tables(cos: torch.Tensor, sin: torch.Tensor, interleaved: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """From per-pair cos/sin [..., head_size/2], the per-lane tables (cos, signed sin) [..., head_size] of apply_rope."""
    if interleaved:
        both = torch.stack((cos, cos), dim=-1), torch.stack((-sin, sin), dim=-1)
        return tuple(reshape_keeping_leading(t, t.dim() - 2, -1) for t in both)  # type: ignore[return-value]
    return torch.cat((cos, cos), dim=-1), torch.cat((-sin, sin), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (a, b) of x [B, H, S, head_size] to (a cos - b sin, b cos + a sin).

    Written per lane as x * cos + x[partner] * signed_sin (tables from rope_tables, [B, 1, S, head_size]), which
    rounds exactly like the pairwise form (a*cos + b*(-sin) == a*cos - b*sin in IEEE arithmetic) but exports as
    one Gather, two Muls and an Add instead of a split, four Muls, a Sub, an Add and a re-interleave per call.
    Interleaved pairs are (2i, 2i+1); half-split pairs are (i, i + head_size/2) (rope_partner).
    """
    out = x * cos + torch.index_select(x, -1, partner) * signed_sin
    # Tables are float32; in half-precision training, rotate in float32 and cast back (no cast traced in fp32).
    return out if out.dtype == x.dtype else out.to(x.dtype)


class Attention(nn.Module):
    """Grouped-query self-attention with RoPE and a key/value cache passed in and out explicitly."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.n_kv_heads = cfg.n_kv_heads
        self.head_size = cfg.head_size
        self.register_buffer("rope_partner", rope_partner(cfg.head_size, cfg.rope_interleaved), persistent=False)
        kv_dim = cfg.n_kv_heads * cfg.head_size
        self.wq = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wk = nn.Linear(cfg.dim, kv_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, kv_dim, bias=False)
        self.wo = nn.Linear(cfg.dim, cfg.dim, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        allowed: torch.Tensor,
        past: KeyValue,
    ) -> Tuple[torch.Tensor, KeyValue]:
        """x [B,S,dim]; cos/signed sin [B,1,S,hs] (rope_tables); allowed bool [B,1,1,S,P+S]; past k/v [B,kvh,P,hs]."""
        hs, nh, nkv = self.head_size, self.n_heads, self.n_kv_heads
        q = reshape_keeping_leading(self.wq(x), 2, nh, hs).transpose(1, 2)
        k = reshape_keeping_leading(self.wk(x), 2, nkv, hs).transpose(1, 2)
        v = reshape_keeping_leading(self.wv(x), 2, nkv, hs).transpose(1, 2)
        q = apply_rope(q, cos, sin, self.rope_partner)
        k = apply_rope(k, cos, sin, self.rope_partner)
        # The cache holds rotated keys: RoPE depends only on each token's own position.
        k_all = torch.cat((past[0], k), dim=2)
        v_all = torch.cat((past[1], v), dim=2)

        # GQA by broadcasting instead of repeating k/v: group the query heads that share a kv head
        # ([B, kvh, n_rep, S, hs]) and let MatMul broadcast k/v over the n_rep axis.
        n_rep = nh // nkv
        qg = reshape_keeping_leading(q, 1, nkv, n_rep, -1, hs)
        scores = torch.matmul(qg, k_all.unsqueeze(2).transpose(-1, -2)) / math.sqrt(hs)
        # Finite minimum, not -inf: a query row with nothing allowed (a padding query) then softmaxes to a
        # uniform, finite distribution instead of NaN, and NaN cannot leak into real rows through the cache.
        # masked_fill (exported as Where) rather than torch.where with a scalar tensor: it works on any device.
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        # Softmax in float32 even when training in half precision (skipped in fp32: the tracer records no-op casts).
        if scores.dtype == torch.float32:
            probs = F.softmax(scores, dim=-1)
        else:
            probs = F.softmax(scores.float(), dim=-1).to(scores.dtype)
        out = torch.matmul(probs, v_all.unsqueeze(2))  # [B, kvh, n_rep, S, hs]
        out = reshape_keeping_leading(reshape_keeping_leading(out, 1, nh, -1, hs).transpose(1, 2), 2, nh * hs)
        return self.wo(out), (k_all, v_all)


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    """Pre-norm residual block: x + Attn(RMSNorm(x)), then + FFN(RMSNorm(.))."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.feed_forward = FeedForward(cfg.dim, cfg.hidden_dim)

    def forward(self, x, cos, sin, allowed, past: KeyValue) -> Tuple[torch.Tensor, KeyValue]:
        h, present = self.attention(self.attention_norm(x), cos, sin, allowed, past)
        x = x + h
        x = x + self.feed_forward(self.ffn_norm(x))
        return x, present


class Llama(nn.Module):
    """Llama-style decoder with a selectable head ("lm", "score", "value"); see the module docstring.

    Parameter names follow llama2.c / Meta (tok_embeddings, layers.N.attention.wq, ..., norm, output).
    """

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.register_buffer("inv_freq", rope_inv_freq(cfg.head_size, cfg.rope_theta), persistent=False)
        self.output = self._make_head(cfg.head)
        self.reset_parameters()

    def _make_head(self, head: str) -> nn.Linear:
        cfg = self.cfg
        if head == "lm":
            out = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
            if cfg.tie_embeddings:
                out.weight = self.tok_embeddings.weight
            return out
        # Score/value heads get a bias: a value's offset is meaningful (unlike softmax logits).
        return nn.Linear(cfg.dim, 1 if head == "score" else cfg.vocab_size, bias=True)

    def set_head(self, head: str) -> None:
        """Replace the head (e.g. turn a pretrained LM into a reward/value model); the new head is freshly
        initialised (zero bias, N(0, 0.02) weight) unless it is a tied "lm" head."""
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        self.cfg.head = head
        ref = self.tok_embeddings.weight
        self.output = self._make_head(head).to(device=ref.device, dtype=ref.dtype)
        if not (head == "lm" and self.cfg.tie_embeddings):
            nn.init.normal_(self.output.weight, std=0.02)
            if self.output.bias is not None:
                nn.init.zeros_(self.output.bias)

    def reset_parameters(self) -> None:
        """GPT-2/llama2.c-style init for training from scratch: N(0, 0.02), residual projections (wo, w2)
        scaled by 1/sqrt(2 n_layers) so the residual stream's variance does not grow with depth."""
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
            elif name.endswith("wo.weight") or name.endswith("w2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * self.cfg.n_layers))
            else:
                nn.init.normal_(p, std=0.02)

    def empty_past(self, batch_size: int) -> List[KeyValue]:
        """Per-layer (key, value) tensors with zero past positions: [B, n_kv_heads, 0, head_size]."""
        ref = self.tok_embeddings.weight
        shape = (batch_size, self.cfg.n_kv_heads, 0, self.cfg.head_size)
        return [(ref.new_zeros(shape), ref.new_zeros(shape)) for _ in range(self.cfg.n_layers)]

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        past_key_values: Optional[Sequence[KeyValue]] = None,
    ) -> Tuple[torch.Tensor, List[KeyValue]]:
        """Run new tokens against an optional cache.

        input_ids [B,S] int64; attention_mask [B,P+S] int64 (1 real, 0 padding, holes allowed anywhere; default
        all ones); position_ids [B,S] int64 (RoPE positions, default P..P+S-1); past_key_values: per layer
        (key, value) [B, n_kv_heads, P, head_size] (default empty).
        Returns (output, presents): output is logits [B,S,V] ("lm"), scores [B,S] ("score") or values [B,S,V]
        ("value"); presents are per layer concat(past, new) along the sequence axis.
        Query j of the chunk may attend to total position t iff t <= P + j and attention_mask[b, t] != 0.
        """
        hidden, presents = self.features(input_ids, attention_mask, position_ids, past_key_values)
        out = self.output(hidden)
        if self.cfg.head == "score":
            out = out.squeeze(-1)
        return out, presents

    def features(
        self,
        input_ids: torch.Tensor,
        attention_mask: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        past_key_values: Optional[Sequence[KeyValue]] = None,
    ) -> Tuple[torch.Tensor, List[KeyValue]]:
        """The final normalised hidden state [B,S,dim] (what the head reads) and the presents; arguments as forward."""
        bsz, seq = input_ids.shape[0], input_ids.shape[1]
        if past_key_values is None:
            past_key_values = self.empty_past(bsz)
        past_len = past_key_values[0][0].shape[2]
        device = input_ids.device
        if attention_mask is None:
            attention_mask = torch.ones(bsz, past_len + seq, dtype=torch.int64, device=device)
        if position_ids is None:
            position_ids = (torch.arange(seq, device=device) + past_len).unsqueeze(0).expand(bsz, seq)

        # Causal by absolute index within the cache (not by position_ids): slot order is time order even when
        # left padding shifts a row's positions.
        q_idx = torch.arange(seq, device=device) + past_len
        k_idx = torch.arange(past_len + seq, device=device)
        causal = k_idx.unsqueeze(0) <= q_idx.unsqueeze(1)  # [S, T]
        allowed = causal.unsqueeze(0) & (attention_mask != 0).unsqueeze(1)  # [B, S, T]
        allowed = allowed.unsqueeze(1).unsqueeze(1)  # [B, 1, 1, S, T] for [B, kvh, n_rep, S, T] scores

        angles = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq  # [B, S, hs/2]
        cos, sin = rope_tables(torch.cos(angles), torch.sin(angles), self.cfg.rope_interleaved)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # [B, 1, S, hs]: per lane cos and signed sin

        x = self.tok_embeddings(input_ids)
        presents: List[KeyValue] = []
        for layer, past in zip(self.layers, past_key_values):
            x, present = layer(x, cos, sin, allowed, past)
            presents.append(present)
        return self.norm(x), presents


@torch.no_grad()
def greedy_generate(model: Llama, prompt_ids: Sequence[int], max_new_tokens: int,
                    stop_ids: Sequence[int] = ()) -> List[int]:
    """Greedy (argmax) decoding with the KV cache, one token per step; returns only the new tokens.

    Stops early after emitting a token in stop_ids (that token is included)."""
    if model.cfg.head != "lm":
        raise ValueError("greedy_generate needs an 'lm' head")
    ids = torch.tensor([list(prompt_ids)], dtype=torch.int64)
    logits, past = model(ids)
    out: List[int] = []
    for _ in range(max_new_tokens):
        nxt = int(torch.argmax(logits[0, -1]))
        out.append(nxt)
        if nxt in stop_ids:
            break
        total = past[0][0].shape[2]
        logits, past = model(torch.tensor([[nxt]]), position_ids=torch.tensor([[total]]), past_key_values=past)
    return out
