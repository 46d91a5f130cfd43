"""Map each line of a template's output back to the template line it came from.

The ``LineMarks`` extension rewrites the template's literal text after lexing:
it puts an invisible mark holding the template line at the start of every piece
of text, and after every newline in it that text follows. After rendering,
``strip_marks`` removes the marks and returns, for each output line, the line of
the first mark on it, or that of the line before when it has none (text that
an expression produced).

Text inside ``{% set %}...{% endset %}``, ``{% filter %}``, ``{% macro %}`` and
``{% call %}`` blocks is left unmarked, because it is a value that the template
may compare, trim or measure, and marks would change the result. Lines that
such text produces take the line of the output line before them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

# Marks are made of two C0 controls, which YAML does not allow in a file, and a
# random number per environment, so no data value can pass as a mark.
MARK_START, MARK_END = "\x1e", "\x1f"
BLOCK_TAGS = {"filter", "macro", "call"}
END_TAGS = {"endset", "endfilter", "endmacro", "endcall"}


class LineMarks(Extension):
    """Mark the template line of every line of literal text (see the module)."""

    def __init__(self, environment):
        super().__init__(environment)
        self.nonce = str(secrets.randbelow(10**12))
        environment.extend(
            line_mark_pattern=re.compile(f"{MARK_START}{self.nonce}:([0-9]+){MARK_END}")
        )

    def mark(self, line: int) -> str:
        return f"{MARK_START}{self.nonce}:{line}{MARK_END}"

    def marked(self, text: str, line: int) -> str:
        """Mark the start of ``text`` and of every line in it that has text.

        A newline at the very end gets no mark after it, because the template
        text that follows (a tag, or an expression on the next line) may
        produce nothing, or be rendered again later by a loop.
        """
        pieces = text.split("\n")
        out = [self.mark(line) + pieces[0]]
        for offset, piece in enumerate(pieces[1:], start=1):
            out.append("\n")
            if piece:
                out.append(self.mark(line + offset) + piece)
        return "".join(out)

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        depth = 0
        tag: list[Token] = []
        for token in stream:
            if tag:
                tag.append(token)
                if token.type == "block_end":
                    depth = _depth_after(tag, depth)
                    yield from tag
                    tag = []
            elif token.type == "block_begin":
                tag = [token]
            elif token.type == "data" and depth == 0:
                yield Token(
                    token.lineno, "data", self.marked(token.value, token.lineno)
                )
            else:
                yield token
        yield from tag


def _depth_after(tag: list[Token], depth: int) -> int:
    """Return the nesting depth of value blocks after one ``{% ... %}`` tag."""
    names = [token.value for token in tag if token.type == "name"]
    if not names:
        return depth
    if names[0] in BLOCK_TAGS:
        return depth + 1
    if names[0] == "set" and not any(token.type == "assign" for token in tag):
        return depth + 1
    if names[0] in END_TAGS:
        return max(depth - 1, 0)
    return depth


def strip_marks(text: str, pattern: re.Pattern) -> tuple[str, list[int]]:
    """Remove the marks; return the text and each output line's template line."""
    lines = text.split("\n")
    origins: list[int] = []
    previous = 1
    for index, line in enumerate(lines):
        match = pattern.search(line)
        if match is not None:
            previous = int(match.group(1))
            lines[index] = pattern.sub("", line)
        origins.append(previous)
    return "\n".join(lines), origins
