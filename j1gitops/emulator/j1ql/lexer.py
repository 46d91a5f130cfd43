"""The J1QL tokenizer.

The tokenizer does not mark keywords. J1QL keywords are case-insensitive and
some of them (``to``, ``has``) are also verbs or property names, so the parser
decides by position. Strings take single or double quotes. J1 documents no
escape sequence inside a string literal; the emulator accepts backslash
escapes (``\\'``, ``\\"``, ``\\\\``, ``\\n``, ``\\t``), the form most query
languages use, and j1gitops itself passes values as ``${name}`` variables
instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class J1QLSyntaxError(ValueError):
    """The query text is not valid J1QL, or uses a form the emulator lacks."""

    def __init__(self, message: str, position: int | None = None):
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"{message}{where}")
        self.position = position


@dataclass(frozen=True)
class Token:
    # name, field (a [bracketed] name), string, number, variable, regex, date, op, eof
    kind: str
    value: str
    position: int


# Longest first, so that "!~=" wins over "!" and "~=".
OPERATORS = (
    "!~=", "!^=", "!$=", "!=", "~=", "^=", "$=", ">=", "<=", ">>", "<<",
    "=", ">", "<", "!", "(", ")", "|", ",", "*", "?", ".", "+", "-",
)  # fmt: skip
_NAME = re.compile(r"[A-Za-z_#][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}")
_DATE = re.compile(r"date\(\s*([^)]*?)\s*\)", re.IGNORECASE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def tokenize(text: str) -> list[Token]:
    """Split J1QL text into tokens, ending with one ``eof`` token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif text.startswith("/*", position):
            end = text.find("*/", position + 2)
            if end < 0:
                raise J1QLSyntaxError("unterminated /* comment", position)
            position = end + 2
        else:
            token, position = _next_token(text, position)
            tokens.append(token)
    tokens.append(Token("eof", "", len(text)))
    return tokens


def _next_token(text: str, position: int) -> tuple[Token, int]:
    char = text[position]
    if char in "'\"":
        return _read_string(text, position)
    if char == "[":
        end = text.find("]", position + 1)
        if end < 0:
            raise J1QLSyntaxError("unterminated [property name]", position)
        return Token("field", text[position + 1 : end], position), end + 1
    if char == "/":
        return _read_regex(text, position)
    for kind, pattern in (("variable", _VARIABLE), ("date", _DATE)):
        match = pattern.match(text, position)
        if match:
            return Token(kind, match.group(1), position), match.end()
    for kind, pattern in (("number", _NUMBER), ("name", _NAME)):
        match = pattern.match(text, position)
        if match:
            return Token(kind, match.group(0), position), match.end()
    for operator in OPERATORS:
        if text.startswith(operator, position):
            return Token("op", operator, position), position + len(operator)
    raise J1QLSyntaxError(f"unexpected character {char!r}", position)


def _read_string(text: str, start: int) -> tuple[Token, int]:
    quote = text[start]
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            following = text[position + 1]
            chars.append(_ESCAPES.get(following, "\\" + following))
            position += 2
        elif char == quote:
            return Token("string", "".join(chars), start), position + 1
        else:
            chars.append(char)
            position += 1
    raise J1QLSyntaxError("unterminated string", start)


def _read_regex(text: str, start: int) -> tuple[Token, int]:
    """Read ``/pattern/flags``; the value is the pattern, a slash, then the flags."""
    position = start + 1
    while position < len(text) and text[position] != "/":
        position += 2 if text[position] == "\\" else 1
    if position >= len(text):
        raise J1QLSyntaxError("unterminated /regex/", start)
    flags = re.match(r"[a-z]*", text[position + 1 :]).group(0)
    value = text[start + 1 : position] + "/" + flags
    return Token("regex", value, start), position + 1 + len(flags)
