"""Torch-side invariants of the decoder's cache/mask contract, shared by the self-test and the forge.

Each check returns the worst absolute difference it saw (or raises on NaN); callers compare against a tolerance.
These exercise exactly the forward that export.py traces, so they also vouch for the ONNX graph's semantics
(which ONNX Runtime then only has to execute faithfully).
"""

from __future__ import annotations

import random
from typing import List, Sequence

import torch

from .llama import Llama


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        raise AssertionError("non-finite outputs")
    return float((a - b).abs().max()) if a.numel() else 0.0


@torch.no_grad()
def cached_vs_uncached(model: Llama, ids: Sequence[int], chunks: Sequence[int]) -> float:
    """Full uncached forward over `ids` versus the same ids fed in chunks of the given sizes through the cache
    (the first chunk against an empty past); returns max |difference| of outputs and of final presents."""
    full_ids = torch.tensor([list(ids)])
    full, full_pres = model(full_ids)
    past = model.empty_past(1)
    outs: List[torch.Tensor] = []
    start = 0
    for n in chunks:
        chunk = full_ids[:, start:start + n]
        total = start + n
        out, past = model(chunk, torch.ones(1, total, dtype=torch.int64), torch.arange(start, total)[None], past)
        outs.append(out)
        start = total
    if start != len(ids):
        raise ValueError("chunks must sum to len(ids)")
    diff = _max_diff(torch.cat(outs, dim=1), full)
    for (k1, v1), (k2, v2) in zip(past, full_pres):
        diff = max(diff, _max_diff(k1, k2), _max_diff(v1, v2))
    return diff


@torch.no_grad()
def padded_vs_unpadded(model: Llama, rows: Sequence[Sequence[int]], steps: int = 3, seed: int = 0) -> float:
    """Batch rows of different lengths with padding at the left AND holes in the middle (random pad slots),
    prefill against an empty past, then decode `steps` chunks of 2 slots in which some slots are padding too;
    compare every real token's output with the row run alone, unpadded, in one uncached forward.

    Padding slots get junk token ids and junk positions on purpose: masking alone must hide them."""
    rng = random.Random(seed)
    V = model.cfg.vocab_size
    # Layout each row: a list of slots, (token, real?) with real tokens in order.
    prefill_len = max(len(r) for r in rows) + 3
    layouts = []
    for r in rows:
        slots = [(t, True) for t in r]
        while len(slots) < prefill_len:
            slots.insert(rng.randrange(0, len(slots) + 1), (rng.randrange(V), False))
        layouts.append(slots)
    # Continuation: per row, `steps` chunks of 2 slots, one of which may be padding.
    extra = [[] for _ in rows]
    for b in range(len(rows)):
        for _ in range(steps):
            pattern = rng.choice([(True, True), (False, True), (True, False)])
            extra[b].append([(rng.randrange(V), real) for real in pattern])

    B = len(rows)
    mask_cols: List[List[int]] = [[int(real) for _, real in lay] for lay in layouts]

    def positions(slots_so_far: List[List[int]], new_slots):
        # RoPE position of a real token = number of real tokens before it; padding gets junk.
        pos = []
        for b, new in enumerate(new_slots):
            n_real = sum(slots_so_far[b])
            row = []
            for _, real in new:
                row.append(n_real if real else rng.randrange(0, 50))
                n_real += int(real)
            pos.append(row)
        return torch.tensor(pos)

    empty_mask: List[List[int]] = [[] for _ in range(B)]
    pos = positions(empty_mask, layouts)
    out, past = model(torch.tensor([[t for t, _ in lay] for lay in layouts]), torch.tensor(mask_cols), pos,
                      model.empty_past(B))
    outs = [out]
    for s in range(steps):
        new = [extra[b][s] for b in range(B)]
        pos = positions(mask_cols, new)
        for b in range(B):
            mask_cols[b] += [int(real) for _, real in new[b]]
        out, past = model(torch.tensor([[t for t, _ in n] for n in new]), torch.tensor(mask_cols), pos, past)
        outs.append(out)
    padded = torch.cat(outs, dim=1)

    diff = 0.0
    for b in range(B):
        all_slots = layouts[b] + [slot for chunk in extra[b] for slot in chunk]
        real_idx = [i for i, (_, real) in enumerate(all_slots) if real]
        alone, _ = model(torch.tensor([[all_slots[i][0] for i in real_idx]]))
        diff = max(diff, _max_diff(padded[b, real_idx], alone[0]))
    if not torch.isfinite(padded).all():
        raise AssertionError("padding rows produced non-finite outputs")
    return diff


@torch.no_grad()
def fully_masked_rows_finite(model: Llama) -> bool:
    """A batch row whose mask is all zeros (every query fully masked) must give finite outputs, not NaN."""
    ids = torch.zeros(2, 4, dtype=torch.int64)
    mask = torch.ones(2, 4, dtype=torch.int64)
    mask[1] = 0
    out, pres = model(ids, mask, torch.arange(4)[None].repeat(2, 1))
    return bool(torch.isfinite(out).all()) and all(bool(torch.isfinite(k).all()) for k, _ in pres)


def run_all(model: Llama, seed: int = 0, tol: float = 1e-4) -> List[str]:
    """Run every check on `model`; returns a list of failure messages (empty when all pass)."""
    rng = random.Random(seed)
    V = model.cfg.vocab_size
    fails = []
    ids = [rng.randrange(V) for _ in range(13)]
    for chunks in ([13], [1] * 13, [5, 1, 3, 4], [2, 2, 9]):
        d = cached_vs_uncached(model, ids, chunks)
        if d > tol:
            fails.append(f"cached vs uncached (chunks {chunks}): max diff {d:.3g} > {tol}")
    rows = [[rng.randrange(V) for _ in range(n)] for n in (7, 3, 1, 5)]
    d = padded_vs_unpadded(model, rows, seed=seed)
    if d > tol:
        fails.append(f"padded/holey vs unpadded: max diff {d:.3g} > {tol}")
    if not fully_masked_rows_finite(model):
        fails.append("fully masked row gave non-finite output")
    return fails
