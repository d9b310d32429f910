"""The reward model: a likelihood verifier over the base LM, exported as a KV-cached scoring decoder.

    r(x, y) = a * log p_LM(y | x) + b = a * sum_t log p_LM(y_t | x, y_<t) + b,

a and b fitted by logistic regression (binary cross-entropy) on base-LM samples graded by the exact checker, so r
is the log-odds that the response is correct (the logit scale of Bradley-Terry reward models, Bradley & Terry 1952;
Ouyang et al. 2022). The signal is the LM's own confidence in the tokens it sampled: 92% of the base LM's errors are
arithmetic slips, and a slipped digit is one the LM itself found unlikely (self-certainty as a best-of-N selector:
Kang et al. 2025, "Scalable Best-of-N Selection for Large Language Models via Self-Certainty"). A transformer score
head fine-tuned from the LM reached AUC 0.79 but ranked the responses to one problem at chance, because it learned
problem difficulty rather than arithmetic; this verifier ranks them.

Only response tokens count: the sum starts after the prompt's last two tokens (the `A:` marker of the arith format).
The score at every position is r of the response so far, so prefixes are scored too (ARGS, SMC twists, pruning).

Decoder layout. log p(y_t | y_<t) needs the LM's output at position t-1 when token t arrives, so each position's
state (final normalised hidden state h, logsumexp of its logits, its token id, the running sum and an "in response"
flag) is carried in extra past_key_values layers after the LM's own, packed into [B, kv_heads, T, head_size]
tensors. Each position's state is per position, so the engine's fork / reorder / truncate of the cache keep it
exact. Each chunk reads the state of the last real position (attention_mask 1): padding, truncated and dropped
positions can sit anywhere in the cache.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from decodealign_tools.llama import Llama

KeyValue = Tuple[torch.Tensor, torch.Tensor]


class LikelihoodVerifier(nn.Module):
    """r = a * (sum of the LM's log-probabilities of the response tokens) + b, per position; see the module doc."""

    #: How a position's head output becomes the log-probability of the next token: "softmax" (an LM: log p(y | s))
    #: or "sigmoid" (a step verifier's candidate head: log P(y keeps the response free of mistakes | s)).
    link = "softmax"

    def __init__(self, lm: Llama, marker: Sequence[int], a: float = 1.0, b: float = 0.0) -> None:
        super().__init__()
        if lm.cfg.head != "lm":
            raise ValueError("the verifier needs an LM with an 'lm' head")
        if len(marker) != 2:
            raise ValueError(f"the response marker must be two token ids, got {list(marker)}")
        self.lm = copy.deepcopy(lm)
        for p in self.lm.parameters():
            p.requires_grad_(False)
        self.marker = (int(marker[0]), int(marker[1]))
        self.a = nn.Parameter(torch.tensor(float(a)))
        self.b = nn.Parameter(torch.tensor(float(b)))
        base = lm.cfg
        self.base_layers = base.n_layers
        self.kv_width = base.n_kv_heads * base.head_size
        # State per position: h (dim), logsumexp, token id, running sum, in-response flag.
        self.state_dim = base.dim + 4
        self.extra_layers = math.ceil(self.state_dim / (2 * self.kv_width))
        # What the exporter and the configs see: a scoring decoder with the extra state layers.
        self.cfg = replace(base, n_layers=base.n_layers + self.extra_layers, head="score")
        init = torch.zeros(self.state_dim)
        init[base.dim + 1] = -1.0  # no previous token
        self.register_buffer("init_state", init, persistent=False)

    def describe(self) -> dict:
        """What config.json records, so tools can rebuild the module (cfg alone would describe a 5-layer LM)."""
        return {"kind": "likelihood_verifier", "formula": "a * sum_response log p_LM(y_t | x, y_<t) + b",
                "a": float(self.a), "b": float(self.b), "response_marker": list(self.marker),
                "lm_layers": self.base_layers, "state_layers": self.extra_layers, "state_dim": self.state_dim}

    def empty_past(self, batch_size: int) -> List[KeyValue]:
        ref = self.init_state
        shape = (batch_size, self.cfg.n_kv_heads, 0, self.cfg.head_size)
        return [(ref.new_zeros(shape), ref.new_zeros(shape)) for _ in range(self.cfg.n_layers)]

    def _unpack_slots(self, tensors: Sequence[torch.Tensor]) -> torch.Tensor:
        """Key, value, key, ... tensors [B, kvh, T, hs] of the extra layers -> states [B, T, state_dim]."""
        parts = [t.transpose(1, 2).reshape(t.shape[0], t.shape[2], self.kv_width) for t in tensors]
        return torch.cat(parts, dim=-1)[..., :self.state_dim]

    def _pack(self, states: torch.Tensor) -> List[KeyValue]:
        """States [B, S, state_dim] -> E (key, value) pairs [B, kvh, S, hs] (zero padded)."""
        bsz, seq = states.shape[0], states.shape[1]
        width = 2 * self.extra_layers * self.kv_width
        padded = torch.cat((states, states.new_zeros(bsz, seq, width - self.state_dim)), dim=-1)
        kvh, hs = self.cfg.n_kv_heads, self.cfg.head_size
        out = []
        for e in range(self.extra_layers):
            pair = []
            for j in range(2):
                s = padded[..., (2 * e + j) * self.kv_width:(2 * e + j + 1) * self.kv_width]
                pair.append(s.reshape(bsz, seq, kvh, hs).transpose(1, 2))
            out.append((pair[0], pair[1]))
        return out

    # Exported beside `scores`: the graph's second output (see forward_all).
    extra_outputs = {"candidate_scores": ["batch_size", "sequence_length", "vocab"]}

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        past_key_values: Optional[Sequence[KeyValue]] = None,
    ) -> Tuple[torch.Tensor, List[KeyValue]]:
        """Scores [B, S] (r of the response up to each position) and presents, with Llama.forward's arguments."""
        scores, _, presents = self.forward_all(input_ids, attention_mask, position_ids, past_key_values)
        return scores, presents

    def forward_all(
        self,
        input_ids: torch.Tensor,
        attention_mask: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        past_key_values: Optional[Sequence[KeyValue]] = None,
    ) -> Tuple[torch.Tensor, List[torch.Tensor], List[KeyValue]]:
        """(scores [B, S], [candidate_scores [B, S, V]], presents). candidate_scores[b, j, v] is the score the sequence
        would get with v appended after position j, r([x, y_<=j, v]): what ARGS asks of k candidate rows, for every v
        in one row (the next token's log-probability is the only term v changes)."""
        bsz, seq = input_ids.shape[0], input_ids.shape[1]
        if past_key_values is None:
            past_key_values = self.empty_past(bsz)
        lm_past, state_past = list(past_key_values[:self.base_layers]), list(past_key_values[self.base_layers:])
        past_len = lm_past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(bsz, past_len + seq, dtype=torch.int64, device=input_ids.device)
        hidden, presents = self.lm.features(input_ids, attention_mask, position_ids, lm_past)
        weight = self.lm.output.weight  # [V, dim]
        logits = torch.matmul(hidden, weight.t())  # [B, S, V]
        lse = torch.logsumexp(logits, dim=-1)  # [B, S]
        d = hidden.shape[-1]

        # The state of the last real cached position (the initial state when there is none). The mask, not the
        # slot order, decides: the engine leaves holes anywhere (left-padded chunks, truncated or dropped tokens).
        # A one-hot row times the cached state (a batched MatMul) reads that one slot without copying the cache, and
        # is all zeros (then replaced by the initial state) when nothing is cached.
        past_real = attention_mask[:, :past_len].to(hidden.dtype)  # [B, P]
        slot = torch.arange(1, past_len + 1, device=input_ids.device).to(hidden.dtype)
        last = torch.cat((past_real.new_zeros(bsz, 1), past_real * slot), dim=1).amax(dim=-1, keepdim=True)  # [B, 1]
        # Unsqueeze, not Reshape: ONNX Reshape reads a 0 (P = 0) as "copy this dimension".
        pick = (slot.unsqueeze(0) == last).to(hidden.dtype).unsqueeze(1).unsqueeze(1)  # [B, 1, 1, P]
        # Expanded over the heads rather than broadcast: ONNX Runtime's MatMul mis-shapes a broadcast with P = 0.
        pick = pick.expand(bsz, self.cfg.n_kv_heads, 1, past_len)
        read = [torch.matmul(pick, t) for kv in state_past for t in kv]  # each [B, kvh, 1, hs]
        prev0 = self._unpack_slots(read)  # [B, 1, D]
        prev0 = torch.where(last.unsqueeze(-1) > 0, prev0, self.init_state)
        real = attention_mask[:, -seq:].to(hidden.dtype)  # [B, S]

        # For chunk position j: index into [prev0, chunk] of the last real position before j.
        ar = torch.arange(seq, device=input_ids.device)
        tagged = real * (ar + 1).to(hidden.dtype)  # [B, S]: i + 1 where real, else 0
        before = (ar.unsqueeze(0) < ar.unsqueeze(1)).to(hidden.dtype)  # [j, i]: i < j
        excl = (tagged.unsqueeze(1) * before).amax(dim=-1).long()  # [B, S]

        own = torch.cat((hidden, lse.unsqueeze(-1), input_ids.to(hidden.dtype).unsqueeze(-1)), dim=-1)  # [B, S, d+2]
        table = torch.cat((prev0[..., :d + 2], own), dim=1)
        prev = torch.gather(table, 1, excl.unsqueeze(-1).expand(bsz, seq, d + 2))
        token_vec = nn.functional.embedding(input_ids, weight)  # W[y_j]
        if self.link == "sigmoid":
            logp = -nn.functional.softplus(-(prev[..., :d] * token_vec).sum(-1))  # log sigmoid(z_{j-1}[y_j])
        else:
            logp = (prev[..., :d] * token_vec).sum(-1) - prev[..., d]  # log p_LM(y_j | y_<j)
        prev_tok = prev[..., d + 1]
        match = real * ((prev_tok == float(self.marker[0])) & (input_ids == self.marker[1])).to(hidden.dtype)
        seen = prev0[..., d + 3] + torch.cumsum(match, dim=1)  # markers completed at or before j
        in_resp_after = (seen > 0).to(hidden.dtype)
        in_resp_before = ((seen - match) > 0).to(hidden.dtype)
        total = prev0[..., d + 2] + torch.cumsum(real * in_resp_before * logp, dim=1)  # [B, S]

        # A padding position's own state is never read back (lookups go through the mask).
        stored = torch.cat((own, total.unsqueeze(-1), in_resp_after.unsqueeze(-1)), dim=-1)  # [B, S, D]
        scores = self.a * total + self.b
        # With v appended: v's log-probability joins the sum when the response has begun by then.
        step = -nn.functional.softplus(-logits) if self.link == "sigmoid" else logits - lse.unsqueeze(-1)
        next_logp = step * in_resp_after.unsqueeze(-1)
        candidates = self.a * (total.unsqueeze(-1) + next_logp) + self.b
        for (pk, pv), (nk, nv) in zip(state_past, self._pack(stored)):
            presents.append((torch.cat((pk, nk), dim=2), torch.cat((pv, nv), dim=2)))
        return scores, [candidates], presents
