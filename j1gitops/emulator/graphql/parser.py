"""A GraphQL document parser for the operations J1's clients send.

It reads executable documents as the GraphQL specification (October 2021)
defines them: operations with variable definitions, selection sets with
aliases, arguments and directives, fragments and inline fragments, and every
literal form. Type-system definitions are rejected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class GraphQLSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"Syntax Error: {message} at line {line}, column {column}")
        self.line = line
        self.column = column


@dataclass(frozen=True)
class VariableRef:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    directives: list[tuple[str, dict]] = field(default_factory=list)
    selections: list | None = None
    line: int = 1
    column: int = 1

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass
class FragmentSpread:
    name: str
    directives: list[tuple[str, dict]] = field(default_factory=list)


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list
    directives: list[tuple[str, dict]] = field(default_factory=list)


@dataclass
class VariableDefinition:
    name: str
    type: str  # as written, such as "String!" or "[String!]!"
    default: Any = None
    has_default: bool = False


@dataclass
class Operation:
    kind: str  # query or mutation
    name: str | None
    variables: list[VariableDefinition]
    selections: list


@dataclass
class Document:
    operations: list[Operation]
    fragments: dict[str, InlineFragment]


_TOKEN = re.compile(
    r'(?P<block>"""(?:\\"""|[^"]|"(?!""))*""")'
    r'|(?P<string>"(?:\\.|[^"\\\n])*")'
    r"|(?P<number>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)"
    r"|(?P<punct>\.\.\.|[!$&()\:=@\[\]{|}])"
)
_IGNORED = re.compile(r"(?:[\s,\ufeff]+|#[^\n\r]*)+")


def parse_document(text: str) -> Document:
    return _Parser(text).document()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.position = 0
        self.tokens = self._tokenize()
        self.index = 0

    def _tokenize(self) -> list[tuple[str, str, int]]:
        tokens = []
        position = 0
        while True:
            ignored = _IGNORED.match(self.text, position)
            if ignored:
                position = ignored.end()
            if position >= len(self.text):
                tokens.append(("eof", "", position))
                return tokens
            match = _TOKEN.match(self.text, position)
            if not match:
                self.fail(f"Unexpected character {self.text[position]!r}", position)
            tokens.append((match.lastgroup, match.group(0), position))
            position = match.end()

    def fail(self, message: str, position: int | None = None):
        if position is None:
            position = self.tokens[self.index][2]
        line = self.text.count("\n", 0, position) + 1
        column = position - (self.text.rfind("\n", 0, position) + 1) + 1
        raise GraphQLSyntaxError(message, line, column)

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        token_kind, token_value, _ = self.tokens[self.index]
        if kind is not None and token_kind != kind:
            return False
        return value is None or token_value == value

    def take(self, value: str) -> bool:
        if self.peek(value) and self.tokens[self.index][0] in ("punct", "name"):
            self.index += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            self.fail(f"Expected {value!r}, found {self.tokens[self.index][1]!r}")

    def name(self) -> str:
        kind, value, _ = self.tokens[self.index]
        if kind != "name":
            self.fail(f"Expected Name, found {value or '<EOF>'!r}")
        self.index += 1
        return value

    # Definitions

    def document(self) -> Document:
        operations, fragments = [], {}
        while not self.peek(kind="eof"):
            if self.peek("fragment", "name"):
                self.index += 1
                name = self.name()
                self.expect("on")
                condition = self.name()
                directives = self.directives()
                fragments[name] = InlineFragment(
                    condition, self.selection_set(), directives
                )
            else:
                operations.append(self.operation())
        if not operations:
            self.fail("Expected an operation")
        return Document(operations, fragments)

    def operation(self) -> Operation:
        if self.peek("{"):
            return Operation("query", None, [], self.selection_set())
        kind = self.name()
        if kind not in ("query", "mutation"):
            self.fail(f"Unexpected {kind!r}: only query and mutation are supported")
        name = self.name() if self.peek(kind="name") else None
        variables = self.variable_definitions()
        self.directives()
        return Operation(kind, name, variables, self.selection_set())

    def variable_definitions(self) -> list[VariableDefinition]:
        definitions = []
        if self.take("("):
            while not self.take(")"):
                self.expect("$")
                name = self.name()
                self.expect(":")
                definition = VariableDefinition(name, self.type_reference())
                if self.take("="):
                    definition.default = self.value(constant=True)
                    definition.has_default = True
                self.directives()
                definitions.append(definition)
        return definitions

    def type_reference(self) -> str:
        if self.take("["):
            inner = self.type_reference()
            self.expect("]")
            written = f"[{inner}]"
        else:
            written = self.name()
        return written + "!" if self.take("!") else written

    # Selections

    def selection_set(self) -> list:
        self.expect("{")
        selections = []
        while not self.take("}"):
            selections.append(self.selection())
        return selections

    def selection(self):
        if self.take("..."):
            if self.peek("on", "name"):
                self.index += 1
                condition = self.name()
                directives = self.directives()
                return InlineFragment(condition, self.selection_set(), directives)
            if self.peek("{") or self.peek("@"):
                directives = self.directives()
                return InlineFragment(None, self.selection_set(), directives)
            name = self.name()
            return FragmentSpread(name, self.directives())
        position = self.tokens[self.index][2]
        first = self.name()
        alias, name = (first, self.name()) if self.take(":") else (None, first)
        line = self.text.count("\n", 0, position) + 1
        column = position - (self.text.rfind("\n", 0, position) + 1) + 1
        result = Field(
            name, alias, self.arguments(), self.directives(), line=line, column=column
        )
        if self.peek("{"):
            result.selections = self.selection_set()
        return result

    def arguments(self, constant: bool = False) -> dict[str, Any]:
        arguments = {}
        if self.take("("):
            while not self.take(")"):
                name = self.name()
                self.expect(":")
                arguments[name] = self.value(constant)
        return arguments

    def directives(self) -> list[tuple[str, dict]]:
        directives = []
        while self.take("@"):
            directives.append((self.name(), self.arguments()))
        return directives

    # Values

    def value(self, constant: bool = False):
        kind, text, _ = self.tokens[self.index]
        if kind == "punct" and text == "$" and not constant:
            self.index += 1
            return VariableRef(self.name())
        if kind == "punct" and text == "[":
            self.index += 1
            items = []
            while not self.take("]"):
                items.append(self.value(constant))
            return items
        if kind == "punct" and text == "{":
            self.index += 1
            fields = {}
            while not self.take("}"):
                name = self.name()
                self.expect(":")
                fields[name] = self.value(constant)
            return fields
        self.index += 1
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            return json.loads(text)
        if kind == "block":
            return _block_string(text[3:-3])
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(
                text, EnumValue(text)
            )
        self.index -= 1
        self.fail(f"Unexpected {text or '<EOF>'!r}")


def _block_string(raw: str) -> str:
    """Apply the block-string rules: common indentation and blank edge lines go."""
    lines = raw.replace('\\"""', '"""').splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    common = min(indents, default=0)
    lines = [lines[0]] + [line[common:] for line in lines[1:]] if lines else []
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)
