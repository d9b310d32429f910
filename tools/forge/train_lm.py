"""Base LM training: next-token loss on the response (and its <|eos|>) given <|bos|> + prompt, with checkpoints
evaluated on validation problems by sampling at T = 1 and greedy decoding. Training stops as soon as a
checkpoint is "useful but fallible" (the issue's target band), so the model is deliberately not trained to convergence."""

from __future__ import annotations

import copy
import math
import random
import time
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F

from data import Example, encode_prompt, length_batches, pad_right
from sampling import accuracy, sample_many


def lm_batches(tok, examples: List[Example], batch: int, rng: random.Random):
    """Endless shuffled batches of (ids, mask, loss_mask): loss only on response tokens and the final <|eos|>."""
    enc = []
    for e in examples:
        p = encode_prompt(tok, e.prompt)
        r = tok.encode(e.response) + [tok.eos_id]
        enc.append((p + r, len(p)))
    for idx in length_batches([len(e[0]) for e in enc], batch, rng):
        chunk = [enc[i] for i in idx]
        ids, mask = pad_right([c[0] for c in chunk], tok.pad_id)
        target_mask = torch.zeros_like(mask)
        for i, (seq, plen) in enumerate(chunk):
            target_mask[i, plen - 1:len(seq) - 1] = 1  # position t predicts token t+1
        yield ids, mask, target_mask


def lm_loss(model, ids, mask, target_mask):
    logits, _ = model(ids, mask)
    logits = logits[:, :-1]
    tgt = ids[:, 1:]
    tm = target_mask[:, :-1].float()
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none").view_as(tm)
    return (ce * tm).sum() / tm.sum()


def train_lm(model, tok, train: List[Example], val: List[Example], *, steps: int, batch: int, lr: float,
             warmup: int, eval_every: int, eval_from: int, eval_problems: int, max_new: int, seed: int,
             accept: Callable[[float, float], bool], log: Callable[[str], None]) -> Dict:
    """Train until `accept(val_sample_acc, val_greedy_acc)` holds at a checkpoint (or `steps` run out).

    Returns {"state": chosen state_dict, "step", "history"}; the chosen checkpoint is the first accepted one,
    else the one whose sampling accuracy is highest without greedy breaking the ceiling."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    it = lm_batches(tok, train, batch, rng)
    history = []
    best = None
    t0 = time.time()
    val_eval = val[:eval_problems]
    for step in range(1, steps + 1):
        model.train()
        ids, mask, tm = next(it)
        loss = lm_loss(model, ids, mask, tm)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if (step >= eval_from and step % eval_every == 0) or step == steps:
            gen = torch.Generator().manual_seed(seed + step)
            s_rows = sample_many(model, tok, val_eval, 1, max_new, 1.0, False, gen)
            g_rows = sample_many(model, tok, val_eval, 1, max_new, 1.0, True, gen)
            sa, ga = accuracy(s_rows), accuracy(g_rows)
            h = {"step": step, "loss": round(float(loss), 4), "val_sample_acc": sa, "val_greedy_acc": ga,
                 "elapsed_s": round(time.time() - t0, 1)}
            history.append(h)
            log(f"lm step {step} loss {float(loss):.3f} val sample {sa:.3f} greedy {ga:.3f} ({h['elapsed_s']} s)")
            if accept(sa, ga):
                return {"state": copy.deepcopy(model.state_dict()), "step": step, "history": history}
            if best is None or sa > best[0]:
                best = (sa, step, copy.deepcopy(model.state_dict()))
    return {"state": best[2], "step": best[1], "history": history}
