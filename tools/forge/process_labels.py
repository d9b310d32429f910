"""Process labels for the learned verifier ("no mistake so far", Lightman et al. 2023, "Let's Verify Step by Step"),
computed by the training code from the problem's reference solution and the exact checker; the network only ever
sees tokens.

A response prefix is *valid* when the numbers it has written so far agree with the reference solution's numbers in
order: every complete number (digits followed by a non-digit) equals the reference's number at that place, and a
number still being written is a prefix of it. Wording is free; only the numbers carry the arithmetic. At <|eos|> the
label is the checker's verdict on the whole response (the outcome), so the score at the last token is the log-odds
that the response is correct.

Per position t the label of every possible next token v is
    candidate[t, v] = valid(y_<=t + v)   (v = <|eos|>: correct(y_<=t); bos / pad: 0)
and the digit tokens of this tokenizer are single characters, so a candidate row needs only ten digit checks.
On a valid prefix, candidate[t, v] is the label of the step v alone: P(valid(y_<=t+1)) = P(valid(y_<=t)) ·
P(candidate[t, y_t+1] | valid(y_<=t)), the chain rule the learned verifier's score is built on.
"""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

import torch

from arith_check import is_correct

_NUM = re.compile(r"[0-9]+")


class TokenClasses:
    """Which vocabulary ids are digits (and which digit), plain text, or special."""

    def __init__(self, tok) -> None:
        self.vocab = tok.vocab_size
        self.eos, self.bos, self.pad = tok.eos_id, tok.bos_id, tok.pad_id
        self.text = [tok.decode([i]) if i not in (tok.eos_id, tok.bos_id, tok.pad_id) else "" for i in range(self.vocab)]
        self.digit_ids = {}
        for i, t in enumerate(self.text):
            if any(c.isdigit() for c in t):
                if len(t) != 1:
                    raise SystemExit(f"token {i} {t!r} mixes digits with other text; process labels need single-digit tokens")
                self.digit_ids[t] = i
        nondigit = torch.ones(self.vocab, dtype=torch.bool)
        for i in self.digit_ids.values():
            nondigit[i] = False
        for i in (self.eos, self.bos, self.pad):
            nondigit[i] = False
        self.nondigit = nondigit


class PrefixState:
    """Walks a response token by token: how many numbers are complete, the number being written, validity."""

    def __init__(self, ref_numbers: Sequence[str]) -> None:
        self.ref = list(ref_numbers)
        self.done = 0
        self.cur = ""
        self.valid = True
        self.text = ""

    def feed(self, piece: str) -> None:
        self.text += piece
        for ch in piece:
            if ch.isdigit():
                self.cur += ch
                if self.valid and not (self.done < len(self.ref) and self.ref[self.done].startswith(self.cur)):
                    self.valid = False
            elif self.cur:
                if self.valid and self.cur != self.ref[self.done]:
                    self.valid = False
                self.done += 1
                self.cur = ""

    def digit_ok(self, d: str) -> bool:
        return self.valid and self.done < len(self.ref) and self.ref[self.done].startswith(self.cur + d)

    def nondigit_ok(self) -> bool:
        return self.valid and (not self.cur or self.cur == self.ref[self.done])


def reference_numbers(reference_response: str) -> List[str]:
    return _NUM.findall(reference_response)


def labels(classes: TokenClasses, response_ids: Sequence[int], reference_response: str,
           answer: str) -> Tuple[torch.Tensor, List[bool]]:
    """(candidate labels [rows, V], whether each row's prefix is itself valid), one row per state before response
    token j (row 0: after the prompt alone) up to the state before <|eos|> (or after the last token); the caller
    places row j at the position of the prompt's last token + j."""
    st = PrefixState(reference_numbers(reference_response))
    rows = []
    valid_rows: List[bool] = []
    for j in range(len(response_ids) + 1):
        valid_rows.append(st.valid)
        row = torch.zeros(classes.vocab)
        if st.nondigit_ok():
            row[classes.nondigit] = 1.0
        for d, i in classes.digit_ids.items():
            if st.digit_ok(d):
                row[i] = 1.0
        row[classes.eos] = float(is_correct(answer, st.text))
        rows.append(row)
        if j == len(response_ids) or int(response_ids[j]) == classes.eos:
            break
        st.feed(classes.text[int(response_ids[j])])
    return torch.stack(rows), valid_rows
