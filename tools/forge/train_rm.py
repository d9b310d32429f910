"""Reward model fitting and evaluation: the likelihood verifier's a and b (see verifier.py) by logistic regression on
base-LM samples graded by the exact checker, so its score is the log-odds that the response is correct (binary
cross-entropy on the final position of prompt + response; the <|eos|> when the sample ended).

Evaluation reports what the strategies depend on, beside the pooled ROC AUC (which also rewards telling easy
problems from hard ones): on problems with both correct and wrong samples, how often a correct sample outscores a
wrong one of the same problem, and the accuracy of picking each problem's top-scored sample against picking at
random (best-of-k with the problem's k samples)."""

from __future__ import annotations

import collections
import time
from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

from data import pad_right
from metrics import roc_auc


def rm_sequence(row) -> List[int]:
    return list(row["prompt_ids"]) + list(row["response_ids"])


@torch.no_grad()
def final_scores(model, rows, pad_id: int, eos_id: int, batch: int = 128) -> List[float]:
    """The score at the last token of prompt + response (the <|eos|> when present): the reward of a whole response."""
    model.eval()
    out: List[float] = []
    for s in range(0, len(rows), batch):
        chunk = rows[s:s + batch]
        ids, mask = pad_right([rm_sequence(r) for r in chunk], pad_id)
        scores, _ = model(ids, mask)
        last = mask.sum(1) - 1
        out.extend(scores[torch.arange(len(chunk)), last].tolist())
    return out


def within_problem(scores, rows) -> Dict:
    """Ranking inside each problem: correct-over-wrong pair accuracy, and top-scored vs random pick accuracy."""
    by_problem = collections.defaultdict(list)
    for s, r in zip(scores, rows):
        by_problem[(r["example"].split, r["example"].index)].append((s, bool(r["correct"])))
    won = pairs = 0.0
    top = rand = 0.0
    for group in by_problem.values():
        for s1, c1 in group:
            for s2, c2 in group:
                if c1 and not c2:
                    pairs += 1
                    won += 1.0 if s1 > s2 else 0.5 if s1 == s2 else 0.0
        best = max(s for s, _ in group)
        winners = [c for s, c in group if s == best]
        top += sum(winners) / len(winners)
        rand += sum(c for _, c in group) / len(group)
    n = len(by_problem)
    return {"pair_accuracy": won / pairs if pairs else float("nan"), "pairs": int(pairs),
            "top_pick_accuracy": top / n, "random_pick_accuracy": rand / n, "problems": n}


def evaluate_rm(model, rows, pad_id, eos_id) -> Dict:
    s = final_scores(model, rows, pad_id, eos_id)
    labels = [r["correct"] for r in rows]
    acc = sum((sc > 0) == l for sc, l in zip(s, labels)) / len(rows)
    return {"auc": roc_auc(s, labels), "accuracy_at_0.5": acc, "n": len(rows),
            "positive_rate": sum(labels) / len(rows), "mean_score": sum(s) / len(s),
            "within_problem": within_problem(s, rows)}


def fit_rm(model, train_rows, val_rows, *, pad_id: int, eos_id: int, log: Callable[[str], None]) -> Dict:
    """Fit the verifier's a and b: logistic regression of correctness on sum_t log p_LM(y_t | x, y_<t) over the train
    samples (L-BFGS to convergence; two parameters, so no checkpoint choice or early stopping)."""
    t0 = time.time()
    with torch.no_grad():
        model.a.fill_(1.0)
        model.b.fill_(0.0)
    feature = torch.tensor(final_scores(model, train_rows, pad_id, eos_id), dtype=torch.float64)
    labels = torch.tensor([float(r["correct"]) for r in train_rows], dtype=torch.float64)
    a = torch.ones((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([a, b], max_iter=500, tolerance_grad=1e-10, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(a * feature + b, labels)
        loss.backward()
        return loss

    if labels.min() == labels.max():
        # One class only (the --tiny config): the regression has no finite optimum; keep a = 1, b = 0 and say so.
        log("rm: the train samples are all one class; a = 1, b = 0 (not fitted)")
    else:
        opt.step(closure)
    loss = float(closure())
    with torch.no_grad():
        model.a.fill_(float(a))
        model.b.fill_(float(b))
    ev = evaluate_rm(model, val_rows, pad_id, eos_id)
    wp = ev["within_problem"]
    h = {"a": float(a), "b": float(b), "train_bce": round(loss, 4), "val_auc": ev["auc"],
         "val_acc": ev["accuracy_at_0.5"], "val_pair_accuracy": wp["pair_accuracy"],
         "val_top_pick": wp["top_pick_accuracy"], "val_random_pick": wp["random_pick_accuracy"],
         "elapsed_s": round(time.time() - t0, 1)}
    log(f"rm: a {h['a']:.4f} b {h['b']:.4f} train bce {loss:.4f}; val auc {ev['auc']:.3f} acc {h['val_acc']:.3f} "
        f"within-problem pairs {wp['pair_accuracy']:.3f}, top pick {wp['top_pick_accuracy']:.3f} "
        f"vs random {wp['random_pick_accuracy']:.3f} ({h['elapsed_s']} s)")
    return {"a": float(a), "b": float(b), "history": [h]}
