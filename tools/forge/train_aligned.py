"""The aligned baseline policy for Transfer Q* (Chakraborty et al. 2024): rejection-sampling fine-tuning (RFT; Yuan
et al. 2023, "Scaling Relationship on Learning Mathematical Reasoning with Large Language Models"). The base LM is
fine-tuned with the next-token loss on its own base samples that the exact checker grades correct, so the policy
moves towards what the target reward (correctness) prefers while staying in the base LM's style. The checkpoint
kept is the one with the best validation sampling accuracy (T = 1)."""

from __future__ import annotations

import copy
import random
import time
from typing import Callable, Dict

import torch

from data import length_batches, pad_right
from sampling import accuracy, sample_many
from train_lm import lm_loss


def train_aligned(model, tok, samples, val, *, steps: int, batch: int, lr: float, eval_every: int, eval_problems: int,
                  max_new: int, seed: int, log: Callable[[str], None]) -> Dict:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    good = [r for r in samples if r["correct"] and r["ended"]]
    if not good:
        # Only a toy run (--tiny) gets here: the policy stays the base LM, and the report says so.
        log("aligned: no correct base samples; the aligned policy is the base LM unchanged")
        return {"state": copy.deepcopy(model.state_dict()), "step": 0, "history": [], "train_samples": 0}
    seqs = [(list(r["prompt_ids"]) + list(r["response_ids"]), len(r["prompt_ids"])) for r in good]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    batches = length_batches([len(s) for s, _ in seqs], batch, rng)
    history, best, t0 = [], None, time.time()
    val_eval = val[:eval_problems]
    for step in range(1, steps + 1):
        model.train()
        chunk = [seqs[i] for i in next(batches)]
        ids, mask = pad_right([s for s, _ in chunk], tok.pad_id)
        tm = torch.zeros_like(mask)
        for i, (s, p) in enumerate(chunk):
            tm[i, p - 1:len(s) - 1] = 1
        loss = lm_loss(model, ids, mask, tm)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % eval_every == 0 or step == steps:
            gen = torch.Generator().manual_seed(seed + step)
            acc = accuracy(sample_many(model, tok, val_eval, 1, max_new, 1.0, False, gen))
            h = {"step": step, "loss": round(float(loss), 4), "val_sample_acc": acc, "elapsed_s": round(time.time() - t0, 1)}
            history.append(h)
            log(f"aligned step {step} loss {float(loss):.3f} val sample {acc:.3f} ({h['elapsed_s']} s)")
            if best is None or acc > best[0]:
                best = (acc, step, copy.deepcopy(model.state_dict()))
    return {"state": best[2], "step": best[1], "history": history, "train_samples": len(good)}
