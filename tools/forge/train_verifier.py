"""Training of the learned verifier's step model (learned_verifier.py) on checker labels.

Batches mix graded base-LM samples (prefixes in the LM's own style, up to its first mistake) and reference solutions.
Loss: binary cross-entropy of the step model's vocabulary head z(y_<=t)[v] against the label of every next token v
(process_labels.py), summed over the vocabulary, averaged over the positions whose prefix has no mistake yet —
after a mistake every continuation is labelled wrong, which would teach nothing about steps. Every `eval_every` steps
the validation samples are scored with the verifier's running sum; the checkpoint kept is the one with the best mean
of validation ROC AUC and within-problem ranking.
"""

from __future__ import annotations

import copy
import random
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

from data import encode_prompt, pad_right
from learned_verifier import StepVerifier
from metrics import roc_auc
from process_labels import TokenClasses, labels
from train_rm import final_scores, within_problem


def make_row(classes, prompt_ids, response_ids, example):
    cand, valid = labels(classes, response_ids, example.response, example.answer)
    return {"ids": list(prompt_ids) + list(response_ids), "p": len(prompt_ids), "cand": cand, "valid": valid}


def batch_tensors(rows, pad_id: int, vocab: int):
    ids, mask = pad_right([r["ids"] for r in rows], pad_id)
    B, L = ids.shape
    c_lab = torch.zeros(B, L, vocab)
    c_m = torch.zeros(B, L)
    for i, r in enumerate(rows):
        p, m = r["p"], r["cand"].shape[0]
        c_lab[i, p - 1:p - 1 + m] = r["cand"]
        c_m[i, p - 1:p - 1 + m] = torch.tensor(r["valid"], dtype=torch.float32)
    return ids, mask, c_lab, c_m


def step_loss(model, batch):
    ids, mask, c_lab, c_m = batch
    z, _ = model(ids, mask)
    bce = F.binary_cross_entropy_with_logits(z, c_lab, reduction="none").sum(-1)
    return (bce * c_m).sum() / c_m.sum().clamp(min=1)


def evaluate(verifier, rows, pad_id: int, eos_id: int) -> Dict:
    """ROC AUC of the final scores, within-problem ranking (train_rm.within_problem) and accuracy at score 0."""
    scores = final_scores(verifier, rows, pad_id, eos_id)
    y = [bool(r["correct"]) for r in rows]
    wp = within_problem(scores, rows)
    return {"auc": roc_auc(scores, y), "within_problem_ranking": wp["pair_accuracy"], "pairs": wp["pairs"],
            "n_samples": len(rows), "problems": wp["problems"], "positive_rate": sum(y) / len(y),
            "accuracy_at_0": sum((s > 0) == t for s, t in zip(scores, y)) / len(rows),
            "top_of_group_accuracy": wp["top_pick_accuracy"], "random_of_group_accuracy": wp["random_pick_accuracy"]}


def train_verifier(model, tok, marker, train_examples, base_train, base_val, *, steps: int, lr: float, warmup: int,
                   eval_every: int, seed: int, log: Callable[[str], None], mix=(16, 16)) -> Dict:
    """Trains the step model `model` in place; returns {"state": best state, "step", "history"}."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    classes = TokenClasses(tok)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.1, 1.0 - max(0, s - warmup) / max(1, steps - warmup)))
    prompts: Dict[tuple, List[int]] = {}

    def prompt_of(e):
        key = (e.split, e.index)
        if key not in prompts:
            prompts[key] = encode_prompt(tok, e.prompt)
        return prompts[key]

    n_base, n_ref = mix
    history, best, t0 = [], None, time.time()
    for step in range(1, steps + 1):
        rows = [make_row(classes, r["prompt_ids"], r["response_ids"], r["example"]) for r in rng.sample(base_train, n_base)]
        rows += [make_row(classes, prompt_of(e), tok.encode(e.response) + [tok.eos_id], e)
                 for e in rng.sample(train_examples, n_ref)]
        model.train()
        loss = step_loss(model, batch_tensors(rows, tok.pad_id, tok.vocab_size))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % eval_every == 0 or step == steps:
            ev = evaluate(StepVerifier(model, marker), base_val, tok.pad_id, tok.eos_id)
            h = {"step": step, "loss": round(float(loss), 4), "val_auc": ev["auc"], "val_ranking": ev["within_problem_ranking"],
                 "val_top_of_group": ev["top_of_group_accuracy"], "elapsed_s": round(time.time() - t0, 1)}
            history.append(h)
            log(f"verifier step {step} loss {float(loss):.4f} val auc {ev['auc']:.3f} ranking "
                f"{ev['within_problem_ranking']:.3f} top-of-group {ev['top_of_group_accuracy']:.3f} ({h['elapsed_s']} s)")
            key = (ev["auc"] + ev["within_problem_ranking"]) / 2
            if best is None or key > best[0]:
                best = (key, step, copy.deepcopy(model.state_dict()))
    return {"state": best[2], "step": best[1], "history": history}
