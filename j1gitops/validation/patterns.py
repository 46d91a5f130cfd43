"""ECMAScript regular expressions, as JSON Schema defines ``pattern``, run with ``re``.

The data model's patterns are written for JavaScript, and Python's ``re`` reads
the same text differently. In ``re``, ``$`` also matches before a final newline,
so ``"CVE-2024-1234\\n"`` would pass ``^CVE-\\d{4}-\\d{4,}$``. ``\\d`` matches any
Unicode digit, and ``.`` matches ``\\r``. ``translate`` rewrites a pattern so that
``re`` gives ECMAScript's answer for the constructs the data model uses, which
keeps python-jsonschema in step with jsonschema-rs (an ECMAScript engine).
"""

from __future__ import annotations

import re
from functools import lru_cache

# ECMAScript's WhiteSpace and LineTerminator characters, which ``\s`` matches.
_ECMA_SPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# The characters that ``.`` matches in ECMAScript without the ``s`` flag.
_ECMA_DOT = "[^\n\r\u2028\u2029]"

_OUTSIDE_CLASS = {
    "$": r"\Z",
    ".": _ECMA_DOT,
}
_ESCAPES_OUTSIDE = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "s": f"[{_ECMA_SPACE}]",
    "S": f"[^{_ECMA_SPACE}]",
}
_ESCAPES_INSIDE = {"d": "0-9", "s": _ECMA_SPACE}


def translate(pattern: str) -> str:
    """Rewrite an ECMAScript pattern into Python ``re`` syntax with the same meaning.

    ``re.ASCII`` must be passed as well, so that ``\\w`` and ``\\b`` stay ASCII.
    Character classes are copied unchanged apart from ``\\d`` and ``\\s``. So a
    ``]`` right after ``[`` keeps Python's meaning, a literal, where ECMAScript
    reads an empty class. The data model's patterns have no such class.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            table = _ESCAPES_INSIDE if in_class else _ESCAPES_OUTSIDE
            out.append(table.get(escaped, char + escaped))
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        else:
            out.append(_OUTSIDE_CLASS.get(char, char))
        index += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_ecma(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern), re.ASCII)


def ecma_search(pattern: str, text: str) -> bool:
    """Return whether ``pattern`` matches anywhere in ``text``, as ``RegExp.test``."""
    return compile_ecma(pattern).search(text) is not None
