"""Batched sampling from a Llama "lm" head with the KV cache (left padding, positions from the mask), and grading."""

from __future__ import annotations

from typing import List, Optional, Sequence

import torch

from arith_check import is_correct


@torch.no_grad()
def generate(model, prompts: Sequence[Sequence[int]], pad_id: int, eos_id: int, max_new: int,
             temperature: float = 1.0, greedy: bool = False, gen: Optional[torch.Generator] = None) -> List[List[int]]:
    """Responses (token ids, ending with eos when the model emitted it) for each prompt."""
    model.eval()
    B = len(prompts)
    L = max(len(p) for p in prompts)
    ids = torch.full((B, L), pad_id, dtype=torch.int64)
    mask = torch.zeros((B, L), dtype=torch.int64)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p, dtype=torch.int64)
        mask[i, L - len(p):] = 1
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    logits, past = model(ids, mask, pos)
    last = logits[:, -1]
    next_pos = pos[:, -1:] + 1
    out: List[List[int]] = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool)
    for _ in range(max_new):
        if greedy:
            tok = last.argmax(-1)
        else:
            probs = torch.softmax(last.float() / temperature, -1)
            tok = torch.multinomial(probs, 1, generator=gen).squeeze(1)
        tok = torch.where(done, torch.full_like(tok, pad_id), tok)
        for i in torch.nonzero(~done).flatten().tolist():
            out[i].append(int(tok[i]))
        done = done | (tok == eos_id)
        if bool(done.all()):
            break
        mask = torch.cat([mask, torch.ones((B, 1), dtype=torch.int64)], 1)
        logits, past = model(tok.unsqueeze(1), mask, next_pos, past)
        last = logits[:, -1]
        next_pos = next_pos + 1
    return out


def sample_many(model, tok, examples, k: int, max_new: int, temperature: float, greedy: bool, gen, batch: int = 128):
    """k responses per example (greedy: k copies are pointless, use k=1) as dicts with ids, text and correctness."""
    from data import encode_prompt

    jobs = [(e, encode_prompt(tok, e.prompt)) for e in examples for _ in range(k)]
    rows = []
    for s in range(0, len(jobs), batch):
        chunk = jobs[s:s + batch]
        outs = generate(model, [p for _, p in chunk], tok.pad_id, tok.eos_id, max_new, temperature, greedy, gen)
        for (e, p), r in zip(chunk, outs):
            text = tok.decode(r)
            rows.append({"example": e, "prompt_ids": p, "response_ids": r, "text": text,
                         "correct": is_correct(e.answer, text), "ended": bool(r) and r[-1] == tok.eos_id})
    return rows


def accuracy(rows) -> float:
    return sum(r["correct"] for r in rows) / max(1, len(rows))
