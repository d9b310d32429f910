"""Write a tiny, randomly initialised Hugging Face-style sequence classifier for the reward-model tests.

The graph has the inputs a transformers export of *ForSequenceClassification has (input_ids, attention_mask,
token_type_ids) and outputs logits [batch, 2]; the tokenizer is GPT-2-style byte-level BPE over the 256 byte
symbols plus a handful of merges. expected.json holds PyTorch's logits for a few (prompt, response) pairs, so the
C# test checks tokenization, padding and label arithmetic end to end.

    /usr/bin/python3 tools/python/make_tiny_classifier.py --out tests/fixtures/tiny-classifier
"""

import argparse
import json
import os

import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decodealign_tools.byte_tokenizer import bytes_to_unicode, write_byte_tokenizer  # noqa: E402


class TinyClassifier(nn.Module):
    """Embedding + token-type embedding → masked mean pool → tanh → 2 logits."""

    def __init__(self, vocab, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.types = nn.Embedding(2, dim)
        self.proj = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.embed(input_ids) + self.types(token_type_ids)
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(torch.tanh(self.proj(pooled)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)

    b2u = bytes_to_unicode()
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("a", "n"), ("Ġ", "a")]
    vocab = write_byte_tokenizer(args.out, merges=merges, specials=("<|pad|>", "<|eos|>"), add_bos=False)

    model = TinyClassifier(len(vocab)).eval()
    ids = torch.tensor([[1, 2, 3], [4, 5, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    types = torch.zeros_like(ids)
    torch.onnx.export(model, (ids, mask, types), os.path.join(args.out, "model.onnx"), opset_version=17,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                      dynamic_axes={n: {0: "batch_size", 1: "sequence_length"} for n in ["input_ids", "attention_mask", "token_type_ids"]} | {"logits": {0: "batch_size"}})

    # Expected logits for queries tokenised by hand with the same byte-level BPE (greedy merges by rank).
    ranks = {m: i for i, m in enumerate(merges)}

    def encode(text):
        import re
        out = []
        for word in re.findall(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\w+| ?\d+| ?[^\s\w\d]+|\s+(?!\S)|\s+""", text):
            parts = [b2u[b] for b in word.encode("utf-8")]
            while len(parts) > 1:
                pairs = [(ranks.get((parts[i], parts[i + 1]), 1 << 30), i) for i in range(len(parts) - 1)]
                r, i = min(pairs)
                if r == 1 << 30:
                    break
                parts[i:i + 2] = [parts[i] + parts[i + 1]]
            out += [vocab[p] for p in parts]
        return out

    queries = [("Q: the cat", " sat on the mat."), ("Q: 2+2", " an answer"), ("", "the end"), ("Héllo ", "wörld ✓")]
    seqs = [encode(p + r) for p, r in queries]
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [vocab["<|pad|>"]] * (width - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
    with torch.no_grad():
        logits = model(ids, mask, torch.zeros_like(ids))
    expected = [{"prompt": p, "response": r, "ids": s, "logits": l.tolist()} for (p, r), s, l in zip(queries, seqs, logits)]
    with open(os.path.join(args.out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
