"""Stable YAML output for inventory files.

The same objects always give the same bytes. The style is two-space block
style, with keys in a fixed order: ``_key``, ``_type``, ``_class``, the other
``_`` fields sorted, then the properties sorted. Every string that YAML 1.1 or
YAML 1.2 would read as anything but that string is written in double quotes, so
``NO``, ``02134``, ``1.10``, ``2024-01-05``, ``1:30``, ``~`` and ``null`` read
back as strings under either version.

Files are written atomically: to a temporary file in the same folder, which is
then renamed over the target, so a failed run never leaves half a file. Devices
and FIFOs are the exception: they are written directly.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from io import StringIO
from typing import IO, Any

from j1gitops.bulkmatch import all_match, lines_pattern
from j1gitops.errors import UsageError
from j1gitops.inventory.yamlload import MAX_EXACT_INTEGER

INDENT = "  "
ITEM_INDENT = INDENT * 3  # list items under a property of a top-level object
SCALAR_TYPES = (str, int, float, bool, type(None))
FIRST_KEYS = ("_key", "_type", "_class")
_FIRST_RANK = {name: index for index, name in enumerate(FIRST_KEYS)}

# Plain scalars that a YAML 1.1 or YAML 1.2 resolver (core or JSON schema) turns
# into null, a boolean, a number, a date or a merge key. The float pattern is
# broader than PyYAML's on purpose: it matches any digits-and-dots text, so
# "1.2.3" and "10.0.0.1" are quoted too.
_RESOLVED = re.compile(
    r"""
    ~ | null | Null | NULL
    | [-+]?0b[0-1_]+
    | [-+]?0o?[0-7_]+
    | [-+]?[0-9][0-9_]*
    | [-+]?0x[0-9a-fA-F_]+
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    | [-+]?(?:[0-9][0-9_]*)?\.[0-9._]*(?:[eE][-+]?[0-9]+)?
    | [-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+).*)?
    | << | =
    """,
    re.VERBOSE,
)
# YAML 1.1 booleans, matched without regard to case so that "nO" is quoted too.
_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}
# A plain scalar may not start with an indicator character.
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
# Characters escaped inside double quotes beyond JSON's own escapes: DEL, the C1
# controls, NEL and the Unicode line separators (line breaks in YAML 1.1), the
# byte-order mark and two noncharacters.
_UNSAFE_IN_QUOTES = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnwritableValue(ValueError):
    """A value that no YAML file can hold, such as a string with a lone surrogate."""


# Text that is safe unquoted unless it is one of ``_WORDS``. It starts with a
# letter, "_" or "/". It contains only letters, digits and "_./@()+=-", colons
# followed by a non-space, and single spaces not followed by "#".
_SIMPLE = re.compile(r"[A-Za-z_/](?:[A-Za-z0-9_./@()+=-]|:(?=\S)| (?=[^\s#]))*")


# A stricter form of ``_SIMPLE`` without its per-character alternatives, so that
# checking a whole column of names or serial numbers costs little: a letter,
# "_" or "/", then runs of safe characters joined by single colons or spaces.
_PLAIN_RUN = r"[A-Za-z_/][A-Za-z0-9_./@()+=-]*(?:[: ][A-Za-z0-9_./@()+=-]+)*"
_PLAIN_RUNS = re.compile(_PLAIN_RUN, re.ASCII)
_PLAIN_LINES = lines_pattern(_PLAIN_RUN)
# Every spelling of ``_WORDS`` in any mix of cases: "no", "No", "nO", "NO", ...
_WORD_SPELLINGS = frozenset(
    "".join(letters)
    for word in _WORDS
    for letters in itertools.product(*({c.lower(), c.upper()} for c in word))
)


def all_plain(strings: Sequence[str]) -> bool:
    """Return True when every string in ``strings`` can be written unquoted.

    This is a fast check for whole columns. It may return False where
    ``format_string`` would still write some strings unquoted, never the reverse.
    Non-string items raise TypeError.
    """
    return all_match(_PLAIN_LINES, strings) and _WORD_SPELLINGS.isdisjoint(strings)


def is_plain(text: str) -> bool:
    """``all_plain`` for one string."""
    return _PLAIN_RUNS.fullmatch(text) is not None and text not in _WORD_SPELLINGS


def _is_plain_safe(text: str) -> bool:
    """Return whether ``text`` reads back as itself when written unquoted."""
    if _SIMPLE.fullmatch(text):
        return len(text) > 5 or text.lower() not in _WORDS
    if not text or not text.isprintable() or text != text.strip():
        return False
    if text[0] in _INDICATORS or text.lower() in _WORDS:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    return _RESOLVED.fullmatch(text) is None


def _escape_character(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}"


def quote(text: str) -> str:
    """Return ``text`` as a double-quoted YAML scalar on one line.

    Raises UnwritableValue for a lone surrogate, which neither UTF-8 nor a YAML
    escape can represent.
    """
    if _SURROGATE.search(text):
        raise UnwritableValue(f"the string {text!r} contains a lone surrogate")
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE_IN_QUOTES.sub(_escape_character, quoted)


def format_string(text: str) -> str:
    return text if _is_plain_safe(text) else quote(text)


def format_scalar(value: Any) -> str:
    """Return a scalar value as YAML text that reads back as the same value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return format_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    raise UnwritableValue(
        f"a {type(value).__name__} value cannot be written as YAML: {value!r}"
    )


def _format_float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    # J1 stores JSON numbers, in which 12.0 is 12, and the loader warns when a
    # float's text would change that way.
    if value.is_integer() and abs(value) <= MAX_EXACT_INTEGER:
        return str(int(value))
    return repr(value)


def ordered_keys(mapping: dict) -> list[str]:
    """Return the keys of ``mapping`` in the order the writer uses."""
    return sorted(mapping, key=_key_rank)


def _key_rank(name: str) -> tuple[int, str]:
    rank = _FIRST_RANK.get(name)
    if rank is not None:
        return (rank, "")
    return (len(FIRST_KEYS) + (0 if name.startswith("_") else 1), name)


class Emitter:
    """Build YAML text for mappings, lists and scalars in block style.

    String scalars are memoised, up to ``MEMO_SIZE`` distinct ones, because
    inventories repeat the same values (classes, types, makes) many times.
    """

    MEMO_SIZE = 10_000

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._orders: dict[tuple, list[str]] = {}
        self._prefixes: dict[tuple[str, bool], str] = {}

    def scalar(self, value: Any) -> str:
        if type(value) is not str:
            return format_scalar(value)
        text = self._strings.get(value)
        if text is None:
            text = format_string(value)
            if len(self._strings) < self.MEMO_SIZE:
                self._strings[value] = text
        return text

    def mapping_lines(self, mapping: dict, indent: str, first: str) -> Iterator[str]:
        """Yield the lines of ``mapping``; the first line starts with ``first``."""
        if not mapping:
            yield f"{first}{{}}\n"
            return
        prefix = first
        for name in ordered_keys(mapping):
            yield from self._entry_lines(name, mapping[name], indent, prefix)
            prefix = indent

    def _entry_lines(self, name: str, value: Any, indent: str, prefix: str):
        key = self.scalar(str(name))
        if isinstance(value, dict) and value:
            yield f"{prefix}{key}:\n"
            yield from self.mapping_lines(value, indent + INDENT, indent + INDENT)
        elif isinstance(value, (list, tuple)) and value:
            yield f"{prefix}{key}:\n"
            yield from self.sequence_lines(value, indent + INDENT)
        else:
            yield f"{prefix}{key}: {self.flow_or_scalar(value)}\n"

    def sequence_lines(self, items: Iterable, indent: str) -> Iterator[str]:
        for item in items:
            if isinstance(item, dict) and item:
                yield from self.mapping_lines(item, indent + INDENT, f"{indent}- ")
            elif isinstance(item, (list, tuple)) and item:
                yield f"{indent}-\n"
                yield from self.sequence_lines(item, indent + INDENT)
            else:
                yield f"{indent}- {self.flow_or_scalar(item)}\n"

    def flow_or_scalar(self, value: Any) -> str:
        if isinstance(value, dict):
            return "{}"
        if isinstance(value, (list, tuple)):
            return "[]"
        return self.scalar(value)

    def object_text(self, obj: dict) -> str:
        """Return one entity or relationship as an item of a top-level list."""
        if not obj:
            return f"{INDENT}- {{}}\n"
        keys = tuple(obj)
        order = self._orders.get(keys)
        if order is None:
            order = ordered_keys(obj)
            if len(self._orders) < self.MEMO_SIZE:
                self._orders[keys] = order
        entry = self.entry_text
        return "".join(
            [entry(name, obj[name], index == 0) for index, name in enumerate(order)]
        )

    def entry_text(self, name: str, value: Any, first: bool = False) -> str:
        """Return one entry of a top-level object; ``first`` puts the list's
        ``- `` before it. The same as ``mapping_lines``, faster for flat values."""
        prefix = self.entry_prefix(name, first)
        kind = type(value)
        if kind is str:
            return f"{prefix}: {self.scalar(value)}\n"
        if kind is int or kind is bool or kind is float:
            return f"{prefix}: {format_scalar(value)}\n"
        if kind is list and value and _all_scalars(value):
            items = "".join([f"{ITEM_INDENT}- {self.scalar(item)}\n" for item in value])
            return f"{prefix}:\n{items}"
        indent = f"{INDENT}- " if first else INDENT * 2
        return "".join(self._entry_lines(name, value, INDENT * 2, indent))

    def entry_prefix(self, name: str, first: bool = False) -> str:
        """Return the indentation and key of a top-level object's entry."""
        text = self._prefixes.get((name, first))
        if text is None:
            indent = f"{INDENT}- " if first else INDENT * 2
            text = indent + self.scalar(str(name))
            if len(self._prefixes) < self.MEMO_SIZE:
                self._prefixes[(name, first)] = text
        return text


def _all_scalars(items: list) -> bool:
    return all(type(item) in SCALAR_TYPES for item in items)


def write_section(
    handle: IO[str],
    name: str,
    objects: Iterable[dict | str | list[str]],
    emitter: Emitter,
) -> int:
    """Write ``name:`` and its objects; write nothing when there are none.

    An object may also be given as its text, built with an ``Emitter``'s
    ``entry_text``, or as a list of such texts (the table importers give a batch
    of rows at a time, to skip building a dict per row). Returns the number of
    objects written.
    """
    count = 0
    for obj in objects:
        if type(obj) is list:
            if not obj:
                continue
            text, size = "".join(obj), len(obj)
        else:
            text, size = obj if type(obj) is str else emitter.object_text(obj), 1
        if count == 0:
            handle.write(f"{name}:\n")
        handle.write(text)
        count += size
    return count


def dump_document(entities: Iterable[dict], relationships: Iterable[dict]) -> str:
    """Return a bulk-upload document with its ``entities`` and ``relationships``.

    A document with neither is ``entities: []``, so that it still reads as an
    (empty) inventory file.
    """
    handle = StringIO()
    write_document(handle, entities, relationships)
    return handle.getvalue()


def write_document(
    handle: IO[str], entities: Iterable[dict | str], relationships: Iterable[dict]
) -> tuple[int, int]:
    """Write a bulk-upload document; return the entity and relationship counts.

    ``relationships`` is read only after every entity is written, so it may be a
    list that the ``entities`` iterator fills as it goes.
    """
    emitter = Emitter()
    entity_count = write_section(handle, "entities", entities, emitter)
    relationship_count = write_section(handle, "relationships", relationships, emitter)
    if entity_count == 0 and relationship_count == 0:
        handle.write("entities: []\n")
    return entity_count, relationship_count


class OutputPathError(UsageError):
    """An output path that cannot be written: a folder where a file is expected,
    or a file where a folder is expected."""


def _umask() -> int:
    """Return the process's umask; ``os.umask`` can only read it by setting it."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str) -> Iterator[IO[str]]:
    """Open ``path`` for writing text; replace it in one rename on success.

    A regular file, or a symbolic link to one, is replaced by renaming a
    temporary file over the link's target, so the link stays and a failed run
    leaves the old content. A new file gets mode ``0o666 & ~umask`` and a
    replaced file keeps its mode (not its owner). A device or FIFO, such as
    ``/dev/null`` or ``/dev/stdout``, is written directly, without a rename.
    A folder raises ``OutputPathError``.

    When the block raises, the temporary file is removed and ``path`` is left as
    it was.
    """
    try:
        status = os.stat(path)
    except FileNotFoundError:
        status = None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise OutputPathError(
            f"{path} is a folder; give the path of a file to write, such as "
            f"{os.path.join(path, 'output.yaml')}"
        )
    if status is not None and not stat.S_ISREG(status.st_mode):
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        return
    # realpath follows the links, also a dangling one, so the rename replaces
    # the file that the link names.
    target = os.path.realpath(path) if os.path.islink(path) else path
    mode = stat.S_IMODE(status.st_mode) if status else 0o666 & ~_umask()
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder
        )
    except OSError as exc:
        raise OutputPathError(
            f"cannot write {path}: {exc.strerror} (in folder {folder}); "
            "write to a folder where files can be created"
        ) from None
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_text_atomic(path: str, text: str) -> None:
    """Replace the file at ``path`` with ``text`` in one rename (see ``atomic_output``)."""
    with atomic_output(path) as handle:
        handle.write(text)


def write_tree_atomic(directory: str, files: dict[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``directory``.

    Every file is written to a temporary folder next to ``directory`` first, so a
    failure leaves ``directory`` as it was. A missing or empty ``directory`` is
    then replaced in one rename. Into any other folder each file is renamed in
    turn, so files of the same names are replaced and the others are left. A
    symbolic link to a folder is followed. New files get mode ``0o666 & ~umask``
    and new folders ``0o777 & ~umask``. An existing file at ``directory``, or at
    one of the folders inside it that ``files`` needs, raises ``OutputPathError``.
    """
    target = os.path.realpath(directory)
    if os.path.exists(target) and not os.path.isdir(target):
        raise OutputPathError(
            f"{directory} is a file, not a folder; give a new or empty folder to "
            "write into"
        )
    _check_tree_folders(directory, target, files)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", dir=parent)
    os.chmod(staging, 0o777 & ~_umask())
    try:
        for relative, text in files.items():
            _write_new(os.path.join(staging, relative), text)
        if os.path.isdir(target) and not os.listdir(target):
            os.rmdir(target)
        if not os.path.exists(target):
            os.rename(staging, target)
            return
        _move_files(staging, target, files)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


def _check_tree_folders(directory: str, target: str, files: dict[str, str]) -> None:
    """Raise ``OutputPathError`` when a file is where ``files`` needs a folder,
    or a folder where it needs a file."""
    for relative in files:
        destination = os.path.join(target, relative)
        if os.path.isdir(destination):
            raise OutputPathError(
                f"{os.path.join(directory, relative)} is a folder, but the export "
                "writes a file there; remove it or export into a new folder"
            )
        folder = os.path.dirname(relative)
        while folder:
            if os.path.lexists(os.path.join(target, folder)) and not os.path.isdir(
                os.path.join(target, folder)
            ):
                raise OutputPathError(
                    f"{os.path.join(directory, folder)} is a file, but the export "
                    "writes a folder there; remove it or export into a new folder"
                )
            folder = os.path.dirname(folder)


def _write_new(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _move_files(staging: str, target: str, files: dict[str, str]) -> None:
    for relative in files:
        destination = os.path.join(target, relative)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        os.replace(os.path.join(staging, relative), destination)
