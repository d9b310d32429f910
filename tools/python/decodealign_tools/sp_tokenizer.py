"""Convert a llama2.c tokenizer (tok*.bin) into a Hugging Face tokenizer.json in the Llama-2 layout, and two
small reference encoders used to prove the conversion encodes identically.

tok*.bin (llama2.c's tokenizer.py export): int32 max_token_length, then per token: float32 score, int32 byte
length, the UTF-8 bytes. Ids 0,1,2 are <unk>, <s>, </s> (stored as "<unk>", "\\n<s>\\n", "\\n</s>\\n");
ids 3..258 are byte-fallback tokens "<0x00>".."<0xFF>"; pieces use a plain leading space where SentencePiece
uses U+2581.

llama2.c's encode (run.c) is SentencePiece BPE inference: prepend a " " token (the "dummy prefix") if the text
is non-empty, map each UTF-8 character to its piece (or to its bytes + 3 when unknown), then repeatedly merge
the adjacent pair whose concatenation is a piece with the highest score (leftmost on ties). Hugging Face's BPE
instead applies merges by rank. Ranking every (left, right) split of every piece by the merged piece's score
(descending) makes the two agree: the pair HF picks (lowest rank) is the pair whose merged piece scores highest,
and among equal ranks HF, like run.c, takes the leftmost occurrence.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

SPIECE_SPACE = "\u2581"  # "▁", SentencePiece's visible space
SPECIALS = ("<unk>", "<s>", "</s>")
N_BYTE_TOKENS = 256
FIRST_BYTE_ID = 3
# run.c starts its best-score search at -1e10, so pieces scoring lower are never produced by a merge.
RUNC_MIN_SCORE = -1e10


class TokenizerError(ValueError):
    """A tokenizer file that cannot be read or converted; the message is one line, meant for the user."""


@dataclass
class Llama2cTokenizer:
    """Raw contents of a llama2.c tok*.bin: byte strings as run.c sees them, and their scores."""

    max_token_length: int
    pieces: List[bytes]
    scores: List[float]

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)


def read_llama2c_tokenizer(path: str, vocab_size: Optional[int] = None) -> Llama2cTokenizer:
    """Read tok*.bin. The file does not store its token count, so we read records until the end of the file and
    then, if vocab_size is given, require that many (run.c reads exactly the checkpoint's vocab_size)."""
    if not os.path.isfile(path):
        raise TokenizerError(f"{path}: tokenizer file not found")
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise TokenizerError(f"{path}: truncated: {len(data)} bytes, no max_token_length header")
    (max_len,) = struct.unpack_from("<i", data, 0)
    if not 0 < max_len < 1 << 16:
        raise TokenizerError(f"{path}: malformed: max_token_length={max_len}")
    off, pieces, scores = 4, [], []
    while off < len(data):
        if off + 8 > len(data):
            raise TokenizerError(f"{path}: truncated: token {len(pieces)} record header needs 8 bytes at offset "
                                 f"{off}, only {len(data) - off} left")
        score, n = struct.unpack_from("<fi", data, off)
        off += 8
        if n < 0 or n > max_len or off + n > len(data):
            raise TokenizerError(f"{path}: malformed or truncated: token {len(pieces)} claims {n} bytes at offset "
                                 f"{off} (max_token_length {max_len}, {len(data) - off} bytes left)")
        pieces.append(data[off:off + n])
        scores.append(score)
        off += n
    if vocab_size is not None and len(pieces) != vocab_size:
        raise TokenizerError(f"{path}: holds {len(pieces)} tokens but the checkpoint's vocab_size is {vocab_size}")
    if len(pieces) < FIRST_BYTE_ID + N_BYTE_TOKENS:
        raise TokenizerError(f"{path}: only {len(pieces)} tokens; expected <unk>, <s>, </s> and 256 byte tokens "
                             f"first")
    for b in range(N_BYTE_TOKENS):
        want = b"<0x%02X>" % b
        if pieces[FIRST_BYTE_ID + b] != want:
            raise TokenizerError(f"{path}: token {FIRST_BYTE_ID + b} is {pieces[FIRST_BYTE_ID + b]!r}, expected "
                                 f"byte-fallback token {want.decode()}")
    return Llama2cTokenizer(max_len, pieces, scores)


def hf_pieces(tok: Llama2cTokenizer) -> List[str]:
    """Vocabulary strings in Hugging Face form: specials as <unk>/<s>/</s>, spaces as U+2581."""
    out = list(SPECIALS)
    for i, p in enumerate(tok.pieces[len(SPECIALS):], start=len(SPECIALS)):
        try:
            s = p.decode("utf-8")
        except UnicodeDecodeError:
            raise TokenizerError(f"token {i} is not valid UTF-8: {p!r}") from None
        if SPIECE_SPACE in s:
            # A literal U+2581 would become indistinguishable from a space after conversion.
            raise TokenizerError(f"token {i} ({s!r}) contains U+2581, which the conversion reserves for spaces")
        out.append(s.replace(" ", SPIECE_SPACE))
    seen: Dict[str, int] = {}
    for i, s in enumerate(out):
        if s in seen:
            raise TokenizerError(f"tokens {seen[s]} and {i} are both {s!r}")
        seen[s] = i
    return out


def derive_merges(tok: Llama2cTokenizer) -> List[Tuple[int, int, int]]:
    """(left id, right id, merged id) for every split of every piece into two pieces, in rank order.

    Works on run.c's byte strings (run.c concatenates exactly those), ranks by merged score descending; ties by
    merged id then split point, only to make the order deterministic (see module docstring for why ties of
    different merged pieces are the one place the two algorithms could disagree)."""
    index = {p: i for i, p in enumerate(tok.pieces)}
    merges = []
    for mid, p in enumerate(tok.pieces):
        if mid < FIRST_BYTE_ID + N_BYTE_TOKENS or tok.scores[mid] <= RUNC_MIN_SCORE:
            continue
        for cut in range(1, len(p)):
            left, right = index.get(p[:cut]), index.get(p[cut:])
            if left is not None and right is not None:
                merges.append((-tok.scores[mid], mid, cut, left, right))
    merges.sort()
    return [(l, r, m) for _, m, _, l, r in merges]


def _special(content: str) -> dict:
    return {"content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}


def tokenizer_json(tok: Llama2cTokenizer) -> dict:
    """The tokenizer.json dict, key for key the Llama-2 layout (BPE + byte fallback, Prepend/Replace
    normalizer, no pre-tokenizer, <s> post-processor, Replace/ByteFallback/Fuse/Strip decoder)."""
    names = hf_pieces(tok)
    merges = [[names[l], names[r]] for l, r, _ in derive_merges(tok)]
    added = [dict(id=i, content=s, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
             for i, s in enumerate(SPECIALS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPIECE_SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPIECE_SPACE}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPIECE_SPACE}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": "<unk>",
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "ignore_merges": False,
            "vocab": {s: i for i, s in enumerate(names)},
            "merges": merges,
        },
    }


def tokenizer_config(model_max_length: int) -> dict:
    """tokenizer_config.json (LlamaTokenizer; BOS added, EOS not; pad is <unk> as in Llama-2's HF config)."""
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {str(i): dict(_special(s), special=True) for i, s in enumerate(SPECIALS)},
        "bos_token": "<s>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "legacy": True,
        "model_max_length": model_max_length,
        "pad_token": "<unk>",
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": "<unk>",
    }


def special_tokens_map() -> dict:
    """special_tokens_map.json, as in the Llama-2 layout."""
    return {"bos_token": _special("<s>"), "eos_token": _special("</s>"), "pad_token": _special("<unk>"),
            "unk_token": _special("<unk>")}


def write_hf_tokenizer(tok: Llama2cTokenizer, out_dir: str, model_max_length: int) -> None:
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    for name, obj in (("tokenizer.json", tokenizer_json(tok)),
                      ("tokenizer_config.json", tokenizer_config(model_max_length)),
                      ("special_tokens_map.json", special_tokens_map())):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")


# ----------------------------------------------------------------------------------------------------------
# Reference encoders/decoders (for verification only: simple, quadratic, faithful to their originals).


def runc_encode(tok: Llama2cTokenizer, text: str, bos: bool = False, eos: bool = False) -> List[int]:
    """llama2.c run.c `encode`, transliterated: dummy-prefix " ", per-UTF-8-character lookup with byte fallback
    (+3), then repeatedly merge the leftmost highest-scoring pair. (run.c stops at a NUL byte: C strings.)"""
    index = {p: i for i, p in enumerate(tok.pieces)}
    raw = text.encode("utf-8").split(b"\0", 1)[0]
    ids: List[int] = [1] if bos else []
    if raw:
        ids.append(index[b" "])
    i = 0
    while i < len(raw):
        # A character is a lead byte plus at most 3 continuation bytes (10xxxxxx), as run.c groups them.
        j = i + 1
        while j < len(raw) and (raw[j] & 0xC0) == 0x80 and j - i < 4:
            j += 1
        ch = raw[i:j]
        if ch in index:
            ids.append(index[ch])
        else:
            ids.extend(b + FIRST_BYTE_ID for b in ch)
        i = j
    while True:
        best, best_id, best_idx = RUNC_MIN_SCORE, -1, -1
        for k in range(len(ids) - 1):
            mid = index.get(tok.pieces[ids[k]] + tok.pieces[ids[k + 1]])
            if mid is not None and tok.scores[mid] > best:
                best, best_id, best_idx = tok.scores[mid], mid, k
        if best_idx == -1:
            break
        ids[best_idx:best_idx + 2] = [best_id]
    if eos:
        ids.append(2)
    return ids


def runc_decode(tok: Llama2cTokenizer, ids: Sequence[int], prev: int = 1) -> bytes:
    """run.c `decode` over a sequence: strip a piece's leading space right after BOS; <0xNN> becomes the byte."""
    out = b""
    for t in ids:
        p = tok.pieces[t]
        if prev == 1 and p.startswith(b" "):
            p = p[1:]
        if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
            p = bytes([int(p[3:5], 16)])
        out += p
        prev = t
    return out


class HfBpeReference:
    """Hugging Face tokenizers' encode/decode for exactly the tokenizer.json layout written above: added
    (special) tokens split out of the raw text, Prepend/Replace normalizer on each remaining segment, BPE with
    merges applied lowest rank first (leftmost on ties) and byte fallback, no post-processor (no BOS)."""

    def __init__(self, tj: dict) -> None:
        m = tj["model"]
        self.vocab: Dict[str, int] = m["vocab"]
        self.inv = {i: s for s, i in self.vocab.items()}
        self.ranks = {(a, b): r for r, (a, b) in enumerate(m["merges"])}
        self.added = sorted((t["content"] for t in tj["added_tokens"]), key=len, reverse=True)
        self.unk = self.vocab[m["unk_token"]]

    def _segments(self, text: str) -> List[Tuple[str, bool]]:
        out, i, start = [], 0, 0
        while i < len(text):
            hit = next((a for a in self.added if text.startswith(a, i)), None)
            if hit:
                if start < i:
                    out.append((text[start:i], False))
                out.append((hit, True))
                i += len(hit)
                start = i
            else:
                i += 1
        if start < len(text):
            out.append((text[start:], False))
        return out

    def _bpe(self, word: str) -> List[int]:
        syms: List[str] = []
        for ch in word:
            if ch in self.vocab:
                syms.append(ch)
            else:
                syms.extend("<0x%02X>" % b for b in ch.encode("utf-8"))
        while len(syms) > 1:
            best, at = None, -1
            for k in range(len(syms) - 1):
                r = self.ranks.get((syms[k], syms[k + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, k
            if best is None:
                break
            syms[at:at + 2] = [syms[at] + syms[at + 1]]
        return [self.vocab.get(s, self.unk) for s in syms]

    def encode(self, text: str) -> List[int]:
        """Token ids of text, without the post-processor's <s>."""
        ids: List[int] = []
        for seg, special in self._segments(text):
            if special:
                ids.append(self.vocab[seg])
            elif seg:
                ids.extend(self._bpe((SPIECE_SPACE + seg).replace(" ", SPIECE_SPACE)))
        return ids

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Decoder chain Replace(▁→' ') / ByteFallback / Fuse / Strip(1 leading space)."""
        pieces = []
        for i in ids:
            s = self.inv[i]
            if skip_special_tokens and s in self.added:
                continue
            pieces.append(s.replace(SPIECE_SPACE, " "))
        # ByteFallback: runs of <0xNN> become the UTF-8 string of those bytes (each invalid run -> U+FFFD each).
        out, k = [], 0
        while k < len(pieces):
            if len(pieces[k]) == 6 and pieces[k].startswith("<0x") and pieces[k].endswith(">"):
                run = bytearray()
                while k < len(pieces) and len(pieces[k]) == 6 and pieces[k].startswith("<0x"):
                    run.append(int(pieces[k][3:5], 16))
                    k += 1
                try:
                    out.append(run.decode("utf-8"))
                except UnicodeDecodeError:
                    out.append("\ufffd" * len(run))
            else:
                out.append(pieces[k])
                k += 1
        text = "".join(out)
        return text[1:] if text.startswith(" ") else text
