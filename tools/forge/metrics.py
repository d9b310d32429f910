"""Small metrics without extra dependencies."""

from typing import Sequence


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve = P(score of a random positive > score of a random negative), ties counted half
    (the Mann-Whitney U statistic over ranks)."""
    pairs = sorted(zip(scores, labels), key=lambda p: p[0])
    n_pos = sum(1 for _, l in pairs if l)
    n_neg = len(pairs) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j + 1) / 2.0  # 1-based average rank of the tie group
        rank_sum += avg_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def r_squared(pred: Sequence[float], target: Sequence[float]) -> float:
    """1 - SSE / SST of predictions against targets."""
    n = len(target)
    mean = sum(target) / n
    sst = sum((t - mean) ** 2 for t in target)
    sse = sum((p - t) ** 2 for p, t in zip(pred, target))
    return 1.0 - sse / sst if sst > 0 else float("nan")
