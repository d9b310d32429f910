"""Python port of the C# arith checker (src/Tasks/Arith/ArithAnswer.cs): keep the regex and canonicalisation identical.
Ground-truth answers always come from the C# dump; this only grades model samples."""

import re
from typing import Optional

_ANSWER = re.compile(r"The answer is (-?)([0-9]+)")


def extract_answer(response: str) -> Optional[str]:
    """The first stated "The answer is N", canonicalised (leading zeros dropped, -0 -> 0), or None."""
    m = _ANSWER.search(response)
    if m is None:
        return None
    digits = m.group(2).lstrip("0")
    if not digits:
        return "0"
    return m.group(1) + digits


def is_correct(answer: str, response: str) -> bool:
    """True when the response states `answer`."""
    return extract_answer(response) == answer
