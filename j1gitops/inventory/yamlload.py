"""Load YAML and JSON safely, as YAML 1.2 core scalars, with source positions.

PyYAML implements YAML 1.1, where ``NO`` is a boolean, ``1:30`` is the integer 90
and ``2024-01-05`` is a date. This module keeps PyYAML's safe C parser (libyaml,
when it is installed) but resolves plain scalars by the YAML 1.2 core schema, so
only ``true``/``false``, ``null``/``~``, and decimal, octal and hexadecimal
numbers change type. Timestamps stay strings.

Documents are composed into nodes, which carry line and column marks, and then
converted by a small walker that also rejects duplicate mapping keys at any depth
and records where each mapping key sits. Mappings come back as ``SourceDict``
and sequences as ``SourceList``, plain ``dict`` and ``list`` subclasses with a
``position`` attribute.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from j1gitops.diagnostics import Diagnostic, Location, error, warning

try:
    _BaseLoader: type = yaml.CSafeLoader
    HAVE_LIBYAML = True
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader
    HAVE_LIBYAML = False

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"


class _CoreSchemaLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader whose implicit resolvers are exactly the YAML 1.2 core schema."""


# The regular expressions of the YAML 1.2.2 core schema (section 10.3.2).
_CORE_RESOLVERS = [
    (NULL_TAG, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (BOOL_TAG, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (INT_TAG, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        FLOAT_TAG,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
]
_RESOLVERS_BY_FIRST_CHARACTER: dict[str, list[tuple[str, re.Pattern]]] = {}
for _tag, _pattern, _first in _CORE_RESOLVERS:
    for _character in _first:
        _RESOLVERS_BY_FIRST_CHARACTER.setdefault(_character, []).append(
            (_tag, re.compile(_pattern))
        )


def _resolve(self, kind, value, implicit):
    """Resolve the tag of an untagged node by the core schema.

    This replaces PyYAML's general ``Resolver.resolve``, which is called once per
    scalar and dominates load time on large files; path resolvers are not used.
    """
    if kind is yaml.ScalarNode:
        if implicit[0]:
            for tag, pattern in _RESOLVERS_BY_FIRST_CHARACTER.get(value[:1], ()):
                if pattern.match(value):
                    return tag
        return STR_TAG
    if kind is yaml.SequenceNode:
        return SEQ_TAG
    return MAP_TAG


_CoreSchemaLoader.resolve = _resolve

_DECIMAL_INT = re.compile(r"^[-+]?[0-9]+$")
MAX_EXACT_INTEGER = 2**53
_BOOLEANS = {"true": True, "false": False}


class SourceDict(dict):
    """A mapping read from a file: ``position`` is where it starts, ``key_positions``
    where each key is, both as (line, column), 1-based."""

    __slots__ = ("position", "key_positions")


class SourceList(list):
    """A sequence read from a file, with the (line, column) where it starts."""

    __slots__ = ("position",)


@dataclass
class LoadedFile:
    """The documents of one file, converted to Python values, and what loading found."""

    path: str
    documents: list[Any] = field(default_factory=list)
    # The (line, column) where each document starts.
    document_positions: list[tuple[int, int]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def encoding_of_mark(data: bytes) -> str | None:
    """Return ``UTF-16`` or ``UTF-32`` when ``data`` starts with that byte-order
    mark, which is also the codec name that decodes it; else None."""
    # The UTF-32 marks come first because UTF-32-LE's starts with UTF-16-LE's.
    for mark, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(mark):
            return name
    return None


def decode_text(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    """Decode UTF-8 with an optional byte-order mark; any other encoding is an error."""
    name = encoding_of_mark(data)
    if name is not None:
        return None, error(
            Location(path), f"file is encoded as {name}; save it as UTF-8", "encoding"
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        return None, error(
            Location(path, line, column),
            f"invalid UTF-8 byte 0x{byte}; save the file as UTF-8",
            "encoding",
        )


def load_text(text: str, path: str) -> LoadedFile:
    """Parse every document of ``text``; ``path`` is only used in positions."""
    result = LoadedFile(path)
    loader = _CoreSchemaLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            walker = _Walker(path, result.diagnostics)
            result.documents.append(walker.convert(node))
            result.document_positions.append(_position(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = (
            Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        result.diagnostics.append(
            error(location, f"invalid YAML: {problem}", "yaml-syntax")
        )
    except yaml.YAMLError as exc:
        # Reader errors (for example a control character) carry a position of their own.
        position = getattr(exc, "position", None)
        message = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        location = Location(path)
        if position is not None:
            prefix = text[:position]
            location = Location(
                path, prefix.count("\n") + 1, position - (prefix.rfind("\n") + 1) + 1
            )
        result.diagnostics.append(
            error(location, f"invalid YAML: {message}", "yaml-syntax")
        )
    finally:
        loader.dispose()
    return result


def load_file(path: str, display_path: str | None = None) -> LoadedFile:
    """Read and parse one YAML or JSON file; problems come back as diagnostics."""
    shown = display_path or path
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        result = LoadedFile(shown)
        result.diagnostics.append(
            error(Location(shown), f"cannot read file: {exc.strerror}", "io")
        )
        return result
    text, problem = decode_text(data, shown)
    if problem is not None:
        result = LoadedFile(shown)
        result.diagnostics.append(problem)
        return result
    return load_text(text, shown)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Walker:
    """Convert one composed document to Python values, checking as it goes.

    Converted nodes are memoised by identity, so an alias costs nothing and a
    "billion laughs" document stays linear in size.
    """

    def __init__(self, path: str, diagnostics: list[Diagnostic]):
        self.path = path
        self.diagnostics = diagnostics
        self.converted: dict[int, Any] = {}

    def location(self, node: yaml.Node) -> Location:
        line, column = _position(node)
        return Location(self.path, line, column)

    def convert(self, node: yaml.Node) -> Any:
        done = self.converted.get(id(node))
        if done is not None:
            return done
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node)
        return self.mapping(node)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        value = node.value
        if tag == STR_TAG:
            return value
        if tag == NULL_TAG:
            return None
        if tag == BOOL_TAG:
            return _BOOLEANS[value.lower()]
        if tag == INT_TAG:
            return self.integer(node)
        if tag == FLOAT_TAG:
            return self.floating(node)
        self.diagnostics.append(
            error(
                self.location(node),
                f"unsupported YAML tag {tag!r} on value {value!r}; remove the tag",
                "yaml-tag",
            )
        )
        return value

    def integer(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        digits = text.lstrip("+-")
        keeps_text = _DECIMAL_INT.match(text) and not text.startswith("+")
        # J1 stores numbers as doubles, which hold integers exactly only up to
        # 2**53: a longer serial number would come back with other digits. The
        # length check comes first because Python refuses to convert more than
        # 4,300 digits.
        short = len(digits) <= len(str(MAX_EXACT_INTEGER))
        if keeps_text and short and not (len(digits) > 1 and digits.startswith("0")):
            value = int(text)
            if abs(value) <= MAX_EXACT_INTEGER:
                return value
        self.diagnostics.append(
            warning(
                self.location(node),
                f"value {text} would lose characters as a number, so it is read as "
                f'the string "{text}"; quote it to keep it a string without this warning',
                "lossy-number",
            )
        )
        return text

    def floating(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            self.diagnostics.append(
                warning(
                    self.location(node),
                    f"value {text} would lose characters as a number, so it is read "
                    f'as the string "{text}"; quote it to keep it a string',
                    "lossy-number",
                )
            )
            return text
        lowered = text.lower()
        if lowered.endswith(("inf", "nan")):
            return (
                -math.inf
                if lowered.startswith("-")
                else (math.nan if "nan" in lowered else math.inf)
            )
        value = float(text)
        stored = int(value) if value.is_integer() else value
        if str(stored) != text:
            # J1 stores JSON numbers, so "1.10" and "2.0" arrive as 1.1 and 2: a
            # version written unquoted would change without this warning.
            self.diagnostics.append(
                warning(
                    self.location(node),
                    f"value {text} is read as the number {stored}; quote it if it "
                    "is text, such as a version",
                    "lossy-number",
                )
            )
        return value

    def sequence(self, node: yaml.SequenceNode) -> SourceList:
        result = SourceList()
        result.position = _position(node)
        self.converted[id(node)] = result
        self._check_collection_tag(node, SEQ_TAG)
        result.extend(self.convert(item) for item in node.value)
        return result

    def mapping(self, node: yaml.MappingNode) -> SourceDict:
        result = SourceDict()
        result.position = _position(node)
        result.key_positions = {}
        self.converted[id(node)] = result
        self._check_collection_tag(node, MAP_TAG)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(
                    error(
                        self.location(key_node),
                        "mapping keys must be strings",
                        "yaml-key",
                    )
                )
                continue
            # Keys are names: "1" and "true" as keys stay strings.
            key = key_node.value
            if key == "<<" and not key_node.style:  # plain, not quoted
                self.diagnostics.append(
                    error(
                        self.location(key_node),
                        "YAML merge keys (<<) are not supported; write the "
                        "properties out in full",
                        "yaml-merge",
                    )
                )
                continue
            position = _position(key_node)
            first = result.key_positions.get(key)
            if first is not None:
                self.diagnostics.append(
                    error(
                        Location(self.path, *position),
                        f"duplicate key {key!r}: first defined on line {first[0]}, "
                        f"again on line {position[0]}; remove one of them",
                        "duplicate-key",
                    )
                )
                continue
            result.key_positions[key] = position
            result[key] = self.convert(value_node)
        return result

    def _check_collection_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            self.diagnostics.append(
                error(
                    self.location(node),
                    f"unsupported YAML tag {node.tag!r}; remove the tag",
                    "yaml-tag",
                )
            )
