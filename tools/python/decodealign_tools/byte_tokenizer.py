"""A minimal GPT-2-style byte-level BPE tokenizer.json (256 byte symbols, optional merges, special tokens) for test
fixtures: every text encodes, and the C# loader reads it through the same code path as GPT-2's."""

import json
import os
from typing import Dict, List, Sequence, Tuple


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible byte -> printable-character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def write_byte_tokenizer(out_dir: str, merges: Sequence[Tuple[str, str]] = (), specials: Sequence[str] = ("<|bos|>", "<|eos|>", "<|pad|>"),
                         add_bos: bool = True) -> Dict[str, int]:
    """Write tokenizer.json + tokenizer_config.json; returns the vocab (token -> id). Byte b has id b."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    added: List[dict] = []
    for s in specials:
        added.append({"id": len(vocab), "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        vocab[s] = len(vocab)
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    config = {"add_bos_token": add_bos, "add_eos_token": False}
    names = {"<|bos|>": "bos_token", "<|eos|>": "eos_token", "<|pad|>": "pad_token"}
    for s in specials:
        if s in names:
            config[names[s]] = s
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    return vocab
