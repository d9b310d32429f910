"""Problems from the C# generator (via `decodealign task-dump`), tokenized for training."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import List, Sequence

import torch

from bpe import ByteBpe


@dataclass
class Example:
    """One problem: prompt, reference response, exact answer (from the C# dump)."""

    split: str
    index: int
    prompt: str
    response: str
    answer: str


def repo_root() -> str:
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def dump(split: str, start: int, count: int, path: str) -> None:
    """Run the CLI's task-dump (Release build) so Python trains on exactly the C# generator's problems."""
    root = repo_root()
    cmd = ["dotnet", "run", "--project", os.path.join(root, "src", "Cli"), "-c", "Release", "--",
           "task-dump", "--task", "arith", "--split", split, "--start", str(start), "--count", str(count), "--out", path]
    subprocess.run(cmd, check=True, cwd=root, stdout=subprocess.DEVNULL)


def load(path: str) -> List[Example]:
    with open(path, encoding="utf-8") as f:
        return [Example(r["split"], r["index"], r["prompt"], r["response"], r["answer"]) for r in map(json.loads, f)]


def encode_prompt(tok: ByteBpe, prompt: str) -> List[int]:
    """<|bos|> + prompt tokens: what the engine feeds before generating (add_bos_token = true)."""
    return [tok.bos_id] + tok.encode(prompt)


def pad_right(seqs: Sequence[Sequence[int]], pad: int):
    """[B, Lmax] ids (right-padded) and the int64 attention mask."""
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad, dtype=torch.int64)
    mask = torch.zeros((len(seqs), L), dtype=torch.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.int64)
        mask[i, :len(s)] = 1
    return ids, mask


def length_batches(lengths: Sequence[int], batch: int, rng, pool: int = 50):
    """Endless batches of indices of similar lengths: shuffle, sort pools of `pool` batches by length, cut, and
    shuffle the batches, so padding (wasted compute on a 2-core CPU) stays small while the order stays random."""
    n = len(lengths)
    while True:
        order = list(range(n))
        rng.shuffle(order)
        batches = []
        for s in range(0, n, batch * pool):
            chunk = sorted(order[s:s + batch * pool], key=lambda i: lengths[i])
            batches += [chunk[j:j + batch] for j in range(0, len(chunk) - batch + 1, batch)]
        rng.shuffle(batches)
        yield from batches
