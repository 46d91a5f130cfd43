"""Patterns over column values, such as ``{site}-{serial}`` for a ``_key``.

A pattern is text with ``{column}`` placeholders; ``{{`` and ``}}`` are literal
braces. Where a column is expected (``--key``), text without braces is a column name,
so ``--key serial`` and ``--key '{serial}'`` mean the same.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass


class PatternError(ValueError):
    """A pattern that cannot be parsed, with the reason in its message."""


@dataclass(frozen=True)
class Pattern:
    text: str
    # Literal text and the column whose value follows it (None at the end).
    parts: tuple[tuple[str, str | None], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column for _, column in self.parts if column is not None)

    @property
    def is_constant(self) -> bool:
        return not self.columns

    def render(self, value_of: Callable[[str], str]) -> str:
        """Fill the placeholders with ``value_of(column)``."""
        pieces = []
        for literal, column in self.parts:
            pieces.append(literal)
            if column is not None:
                pieces.append(value_of(column))
        return "".join(pieces)


def parse_pattern(text: str) -> Pattern:
    """Parse ``text``; raise PatternError for unbalanced braces or format specs."""
    parts = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PatternError(
            f"invalid pattern {text!r}: {exc}; write {{column}} for a value and "
            "{{{{ or }}}} for a literal brace"
        ) from None
    for literal, field, spec, conversion in parsed:
        if field is not None and (spec or conversion):
            raise PatternError(
                f"invalid pattern {text!r}: write a plain {{column}}, without "
                "':' or '!' inside the braces"
            )
        if field == "":
            raise PatternError(f"invalid pattern {text!r}: '{{}}' names no column")
        parts.append((literal, field))
    return Pattern(text, tuple(parts))


def column_or_pattern(text: str) -> Pattern:
    """Read ``text`` as a pattern, or as one column's name when it has no braces."""
    if "{" not in text and "}" not in text:
        return Pattern(text, (("", text),))
    return parse_pattern(text)
