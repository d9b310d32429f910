"""A small byte-level BPE (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword Units";
byte-level variant of Radford et al. 2019, GPT-2), trained on the arith train split and saved in the Hugging Face
`tokenizer.json` layout of GPT-2 (model BPE with vocab + merges, ByteLevel pre-tokenizer and decoder), so the C#
tokenizer loader reads it like any GPT-2-family tokenizer.

Digits never take part in a merge: the GPT-2 pre-tokenizer puts a number in its own chunk (" 123"), and those
chunks are left out of merge training, so every number is spelled one digit per token. That makes the digit
tokens of "12 + 7 = 19" the same wherever they appear, which is what lets a tiny model learn column arithmetic.
"""

from __future__ import annotations

import collections
import json
import os
import re
from typing import Dict, Iterable, List, Sequence, Tuple

from decodealign_tools.byte_tokenizer import bytes_to_unicode  # GPT-2's byte -> printable map, shared

# GPT-2's pre-tokenizer regex. Python's `re` lacks \p{L}/\p{N}; the arith text is ASCII, where these classes
# coincide with [A-Za-z] and [0-9], so chunks are identical to the Unicode-aware regex the C# loader uses.
_PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")

SPECIALS = ("<|eos|>", "<|bos|>", "<|pad|>")


_B2U = bytes_to_unicode()
_U2B = {u: b for b, u in _B2U.items()}


def _chunks(text: str) -> List[str]:
    """Pre-tokenize and map each chunk's UTF-8 bytes to GPT-2's printable alphabet."""
    return ["".join(_B2U[b] for b in m.encode("utf-8")) for m in _PAT.findall(text)]


class ByteBpe:
    """Byte-level BPE with a fixed vocab and merge list; special tokens follow the merged tokens."""

    def __init__(self, vocab: Dict[str, int], merges: List[Tuple[str, str]]):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.merges = merges
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.eos_id = vocab["<|eos|>"]
        self.bos_id = vocab["<|bos|>"]
        self.pad_id = vocab["<|pad|>"]
        self._cache: Dict[str, List[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @staticmethod
    def train(texts: Iterable[str], max_merges: int = 400, min_count: int = 2) -> "ByteBpe":
        """Learn merges greedily by pair frequency over non-numeric chunks, most frequent first (ties by pair)."""
        words: Dict[Tuple[str, ...], int] = collections.Counter()
        for t in texts:
            for c in _chunks(t):
                if any(ch.isdigit() for ch in c):
                    continue
                words[tuple(c)] += 1
        merges: List[Tuple[str, str]] = []
        words = dict(words)
        for _ in range(max_merges):
            pairs: Dict[Tuple[str, str], int] = collections.Counter()
            for w, n in words.items():
                for a, b in zip(w, w[1:]):
                    pairs[(a, b)] += n
            if not pairs:
                break
            # Deterministic tie-break, so the same corpus always yields the same tokenizer.
            best, count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
            if count < min_count:
                break
            merges.append(best)
            joined = best[0] + best[1]
            new_words = {}
            for w, n in words.items():
                out, i = [], 0
                while i < len(w):
                    if i + 1 < len(w) and w[i] == best[0] and w[i + 1] == best[1]:
                        out.append(joined)
                        i += 2
                    else:
                        out.append(w[i])
                        i += 1
                new_words[tuple(out)] = new_words.get(tuple(out), 0) + n
            words = new_words
        vocab: Dict[str, int] = {}
        for b in range(256):
            vocab[_B2U[b]] = b
        for a, b in merges:
            vocab.setdefault(a + b, len(vocab))
        for s in SPECIALS:
            vocab[s] = len(vocab)
        return ByteBpe(vocab, merges)

    def _bpe(self, chunk: str) -> List[int]:
        hit = self._cache.get(chunk)
        if hit is not None:
            return hit
        parts = list(chunk)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            r, i = min(ranked)
            if r == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        ids = [self.vocab[p] for p in parts]
        self._cache[chunk] = ids
        return ids

    def encode(self, text: str) -> List[int]:
        """Token ids of `text` (no special tokens added)."""
        out: List[int] = []
        for c in _chunks(text):
            out.extend(self._bpe(c))
        return out

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        """Text of `ids`; special tokens are dropped (or kept verbatim)."""
        buf = bytearray()
        for i in ids:
            t = self.inv[int(i)]
            if t in SPECIALS:
                if not skip_special:
                    buf.extend(t.encode("utf-8"))
                continue
            buf.extend(_U2B[ch] for ch in t)
        return buf.decode("utf-8", errors="replace")

    def save(self, out_dir: str, model_max_length: int) -> None:
        """Write tokenizer.json (HF GPT-2 layout) and tokenizer_config.json."""
        os.makedirs(out_dir, exist_ok=True)
        added = [{"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for s in SPECIALS]
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        tok = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                "vocab": self.vocab,
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False, indent=1)
            f.write("\n")
        conf = {
            "add_bos_token": True,
            "add_eos_token": False,
            "add_prefix_space": False,
            "bos_token": "<|bos|>",
            "eos_token": "<|eos|>",
            "pad_token": "<|pad|>",
            "unk_token": None,
            "clean_up_tokenization_spaces": False,
            "model_max_length": model_max_length,
            "tokenizer_class": "GPT2Tokenizer",
            "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added},
        }
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(conf, f, ensure_ascii=False, indent=2)
            f.write("\n")

    @staticmethod
    def load(out_dir: str) -> "ByteBpe":
        """Read back a tokenizer.json written by save()."""
        with open(os.path.join(out_dir, "tokenizer.json"), encoding="utf-8") as f:
            tok = json.load(f)
        merges = [tuple(m.split(" ")) for m in tok["model"]["merges"]]
        return ByteBpe(dict(tok["model"]["vocab"]), merges)
