"""Value model for VAS ("Value Augmented Sampling for Language Model Alignment and Personalization", Han et al. 2024):
token-level values V(s, a) with a head of vocabulary width, so that one decoder step yields V(s, a) for every
candidate next token a. It is fitted on base-LM samples by regression towards TD(lambda) returns (gamma = 1,
lambda = 0.95) whose only reward is the reward model's final score, on the tokens actually taken.

With gamma = 1 and no intermediate reward, the lambda-return of the t-th response token is
    G_t = (1 - lambda) * V(s_{t+1}, a_{t+1}) + lambda * G_{t+1},    G_{T-1} = r (the last action, usually <|eos|>),
bootstrapped from the model's own (detached) predictions on the same sample, as in fitted TD(lambda)
(Sutton 1988; Sutton & Barto 2018, ch. 12)."""

from __future__ import annotations

import copy
import random
import time
from typing import Callable, Dict, List

import torch

from data import length_batches, pad_right
from metrics import r_squared

GAMMA = 1.0
LAMBDA = 0.95


def _values(model, rows, pad_id: int):
    """Vocabulary-wide values [B, L, V] of prompt + response (position i holds V(s_{<=i}, a) for every next token
    a), with the padded ids and mask."""
    ids, mask = pad_right([list(r["prompt_ids"]) + list(r["response_ids"]) for r in rows], pad_id)
    return model(ids, mask)[0], ids, mask


def taken_values(model, rows, pad_id: int):
    """Q [B, Tmax] of the response tokens actually taken and the valid-action mask."""
    values, ids, _ = _values(model, rows, pad_id)
    return _gather_taken(values, ids, rows)


def td_lambda_targets(q: torch.Tensor, valid: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
    """lambda-returns for every taken action, computed backwards from the final reward (q is detached)."""
    B, T = q.shape
    g = torch.zeros_like(q)
    lengths = valid.sum(1)
    nxt = reward.clone()  # G_{t+1} for the row's last action is the reward itself
    for t in range(T - 1, -1, -1):
        is_last = lengths - 1 == t
        inside = t < lengths - 1
        boot = torch.where(inside, (1 - LAMBDA) * q[:, min(t + 1, T - 1)] + LAMBDA * GAMMA * nxt, nxt)
        g[:, t] = torch.where(is_last | inside, torch.where(is_last, reward, boot), torch.zeros_like(nxt))
        nxt = torch.where(is_last | inside, g[:, t], nxt)
    return g


def value_loss(model, rows, pad_id: int, guide=None):
    """TD(lambda) error on the taken actions; with a guide (lm, step_fn, k, weight), plus the centred-difference
    distillation below."""
    values, ids, mask = _values(model, rows, pad_id)
    q, valid = _gather_taken(values, ids, rows)
    reward = torch.tensor([r["reward"] for r in rows], dtype=q.dtype)
    target = td_lambda_targets(q.detach(), valid, reward)
    err = (q - target) ** 2
    loss = (err * valid).sum() / valid.sum()
    if guide is not None:
        loss = loss + guide[3] * centred_distillation(values, ids, mask, rows, guide)
    return loss


def _gather_taken(values, ids, rows):
    """The values of the taken response tokens [B, Tmax] and their mask, from vocabulary-wide values [B, L, V]."""
    T = max(len(r["response_ids"]) for r in rows)
    q = values.new_zeros((len(rows), T))
    valid = torch.zeros((len(rows), T), dtype=torch.bool)
    for i, r in enumerate(rows):
        p, n = len(r["prompt_ids"]), len(r["response_ids"])
        pos = torch.arange(p - 1, p - 1 + n)
        q[i, :n] = values[i, pos, ids[i, p:p + n]]
        valid[i, :n] = True
    return q, valid


def centred_distillation(values, ids, mask, rows, guide):
    """Which next token is better is what VAS reads (V(s, a) − mean over the LM's top-k), and the taken action alone
    teaches it slowly. So on the LM's top-k at every response position, V's centred differences are also pulled
    towards the reward model's one-step differences g(s, a) − mean g(s, ·) (for the learned verifier,
    g = a·log σ(z(s)[a]): how much appending a changes its score). Centring leaves the level to TD(lambda)."""
    lm, step_fn, k, _ = guide
    with torch.no_grad():
        top = lm(ids, mask)[0].topk(k, dim=-1).indices  # [B, L, k]
        g = step_fn(ids, mask).gather(-1, top)
    v = values.gather(-1, top)
    diff = (v - v.mean(-1, keepdim=True)) - (g - g.mean(-1, keepdim=True))
    resp = torch.zeros(ids.shape, dtype=values.dtype)
    for i, r in enumerate(rows):
        p, n = len(r["prompt_ids"]), len(r["response_ids"])
        resp[i, p - 1:p - 1 + n] = 1
    return ((diff ** 2).mean(-1) * resp).sum() / resp.sum()


@torch.no_grad()
def evaluate_value(model, rows, pad_id: int, batch: int = 64) -> Dict:
    """MSE against TD(lambda) targets; R^2 of every V(s_t, a_t) and of the first one against the Monte-Carlo return
    (the final reward, since gamma = 1)."""
    model.eval()
    se, n = 0.0, 0
    preds, mc, first_p, first_mc, last_p = [], [], [], [], []
    for s in range(0, len(rows), batch):
        chunk = rows[s:s + batch]
        q, valid = taken_values(model, chunk, pad_id)
        reward = torch.tensor([r["reward"] for r in chunk], dtype=q.dtype)
        tgt = td_lambda_targets(q, valid, reward)
        se += float((((q - tgt) ** 2) * valid).sum())
        n += int(valid.sum())
        for i, r in enumerate(chunk):
            L = len(r["response_ids"])
            preds.extend(q[i, :L].tolist())
            mc.extend([r["reward"]] * L)
            first_p.append(float(q[i, 0]))
            first_mc.append(r["reward"])
            last_p.append(float(q[i, L - 1]))
    return {"td_mse": se / max(1, n), "r2_all_positions_vs_return": r_squared(preds, mc),
            "r2_first_token_vs_return": r_squared(first_p, first_mc),
            "r2_last_token_vs_return": r_squared(last_p, first_mc), "n_samples": len(rows), "n_tokens": n}


def train_value(model, train_rows, val_rows, *, pad_id: int, steps: int, batch: int, lr: float, eval_every: int,
                seed: int, log: Callable[[str], None], guide=None) -> Dict:
    """Fit for `steps` steps and keep the checkpoint with the lowest validation TD(lambda) MSE. The caller starts the
    head (weights and bias) on the reward's scale, so early bootstrapped targets are too."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    seq_len = [len(r["prompt_ids"]) + len(r["response_ids"]) for r in train_rows]
    batches = length_batches(seq_len, batch, rng)
    best, history, t0 = None, [], time.time()
    for step in range(1, steps + 1):
        model.train()
        idx = next(batches)
        loss = value_loss(model, [train_rows[i] for i in idx], pad_id, guide)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % eval_every == 0 or step == steps:
            ev = evaluate_value(model, val_rows, pad_id)
            h = {"step": step, "loss": round(float(loss), 4), **{k: ev[k] for k in ("td_mse", "r2_all_positions_vs_return")},
                 "elapsed_s": round(time.time() - t0, 1)}
            history.append(h)
            log(f"value step {step} loss {float(loss):.4f} val td_mse {ev['td_mse']:.4f} "
                f"R2(all) {ev['r2_all_positions_vs_return']:.3f} ({h['elapsed_s']} s)")
            if best is None or ev["td_mse"] < best[0]:
                best = (ev["td_mse"], step, copy.deepcopy(model.state_dict()))
    return {"state": best[2], "step": best[1], "history": history}
