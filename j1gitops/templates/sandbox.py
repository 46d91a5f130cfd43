"""The Jinja2 environment that inventory templates run in.

It is Jinja2's ``ImmutableSandboxedEnvironment`` (no attribute that starts with
``_``, no internal attributes of functions, frames or types, no methods that
change lists, dicts or sets), with:

- ``StrictUndefined``, so an unknown variable or key is an error, not "";
- no loader, so ``include``, ``import`` and ``extends`` cannot open files;
- the ``cycler``, ``joiner``, ``lipsum`` and ``namespace`` globals removed, and
  the ``random`` filter, so output depends only on the template and its data;
- size checks before the operations that can build a large value from small
  ones: ``*``, ``**``, ``+``, ``%`` and ``~``, the text that macros and blocks
  collect, the string methods ``center``, ``ljust``, ``rjust``, ``zfill``,
  ``expandtabs``, ``replace``, ``join`` and ``format``, ``int.to_bytes``, and
  the filters ``center``, ``indent``, ``join``, ``replace``, ``wordwrap`` and
  ``format``. No string or list may exceed ``MAX_VALUE_LENGTH`` (10 million)
  characters or items, and no integer ``MAX_INTEGER_BITS`` bits, so
  ``'x' * 10**9`` or ``9**9**9`` fail at once instead of exhausting memory or
  time. Every other method and filter result is measured after the call, so
  no value over the limit travels on, but such a call can still allocate a
  few times its input first;
- a wall-clock budget per render (``TimeBudget``, 30 seconds by default).

Templates see the config's ``vars`` as variables and the data files under
``data``, and nothing of the environment, the file system or Python itself.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter

from j1gitops.templates.linemap import LineMarks

REMOVED_GLOBALS = ("cycler", "joiner", "lipsum", "namespace")
REMOVED_FILTERS = ("random",)
# Characters of a string, or items of a list, tuple or dict, that any one value
# a template builds may hold. The whole output has its own limit in render.py.
MAX_VALUE_LENGTH = 10_000_000
MAX_EXPONENT = 1024
# About 30,000 decimal digits; Python 3.11 prints at most 4,300 by default.
MAX_INTEGER_BITS = 100_000
DEFAULT_TIME_LIMIT = 30.0  # seconds of wall-clock time per template render
# Seconds; the variable can only lower DEFAULT_TIME_LIMIT, for tests and CI.
TIME_LIMIT_VARIABLE = "J1GITOPS_TEMPLATE_TIME_LIMIT"
_NUMBER_IN_SPEC = re.compile(r"[0-9]+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*([0-9]+|\*)?(?:\.([0-9]+|\*))?")
_WIDTH_METHODS = ("center", "ljust", "rjust", "zfill")


class LimitExceeded(SecurityError):
    """An operation that would build a value larger than templates allow."""


class RenderTimeout(LimitExceeded):
    """A render that ran longer than its time budget."""


def time_limit() -> float:
    """Return the seconds a render may take: the default, or the lower value
    that ``J1GITOPS_TEMPLATE_TIME_LIMIT`` sets."""
    text = os.environ.get(TIME_LIMIT_VARIABLE, "").strip()
    try:
        requested = float(text) if text else DEFAULT_TIME_LIMIT
    except ValueError:
        return DEFAULT_TIME_LIMIT
    if not requested > 0:
        return DEFAULT_TIME_LIMIT
    return min(requested, DEFAULT_TIME_LIMIT)


class TimeBudget:
    """The deadline of one render, enforced two ways.

    On the main thread a ``SIGALRM`` timer (``signal.setitimer``) raises
    ``RenderTimeout`` in whatever template code runs, including loops that call
    nothing. The timer replaces any other ``ITIMER_REAL`` timer of the process
    for the length of the render. On other threads, where signals cannot be
    used, the sandbox's attribute, item, call and operator hooks compare the
    clock with the deadline, so a loop whose body makes none of those calls is
    only stopped when it ends.
    """

    def __init__(self) -> None:
        self.seconds = DEFAULT_TIME_LIMIT
        self.deadline: float | None = None

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.deadline = None
            raise self.timeout()

    def timeout(self) -> RenderTimeout:
        return RenderTimeout(
            f"rendering timed out after {self.seconds:g} seconds, the maximum for one "
            "template"
        )

    @contextmanager
    def running(self) -> Iterator[None]:
        self.seconds = time_limit()
        self.deadline = time.monotonic() + self.seconds
        use_signal = hasattr(signal, "setitimer") and (
            threading.current_thread() is threading.main_thread()
        )
        if not use_signal:
            try:
                yield
            finally:
                self.deadline = None
            return

        def expire(signum, frame):
            raise self.timeout()

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.deadline = None


def bounded_concat(pieces: Any) -> str:
    """Join ``pieces`` as text, failing past ``MAX_VALUE_LENGTH`` characters.

    Jinja2 joins with the environment's ``concat`` the output of macros and of
    ``set``, ``filter`` and ``call`` blocks, and (through ``BoundedCodeGenerator``)
    the operands of ``~``.
    """
    texts = []
    length = 0
    for piece in pieces:
        text = piece if type(piece) is str else str(piece)
        length += len(text)
        if length > MAX_VALUE_LENGTH:
            raise _too_long("joining text", length)
        texts.append(text)
    return "".join(texts)


class BoundedBuffer(list):
    """The list that a macro or block collects its output in, failing once the
    text in it passes ``MAX_VALUE_LENGTH`` characters."""

    def __init__(self) -> None:
        super().__init__()
        self.length = 0

    def _add(self, piece: Any) -> None:
        if type(piece) is str:
            self.length += len(piece)
            if self.length > MAX_VALUE_LENGTH:
                raise _too_long("the output of a macro or block", self.length)

    def append(self, piece: Any) -> None:
        self._add(piece)
        super().append(piece)

    def extend(self, pieces: Any) -> None:
        for piece in pieces:
            self.append(piece)


class BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code generator, with ``a ~ b`` compiled to ``bounded_concat`` and
    output buffers made ``BoundedBuffer`` lists."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox for inventory templates.

    It also records the data record that a template read last, so that output
    lines can name the record they came from.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = BoundedCodeGenerator
    concat = staticmethod(bounded_concat)
    output_buffer = BoundedBuffer

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            loader=None,
            extensions=[LineMarks, "jinja2.ext.loopcontrols"],
        )
        for name in REMOVED_GLOBALS:
            self.globals.pop(name, None)
        for name in REMOVED_FILTERS:
            self.filters.pop(name, None)
        self._bound_filters()
        # id() of each data record -> where it comes from, such as "data/x.csv:4".
        self.record_origins: dict[int, str] = {}
        self.current_origin: str | None = None
        self.budget = TimeBudget()

    def _bound_filters(self) -> None:
        """Check the arguments of the filters that can enlarge a value, and the
        size of every filter's result."""
        checks: dict[str, Callable[..., None]] = {
            "center": _check_center_filter,
            "indent": _check_indent_filter,
            "replace": _check_replace_filter,
            "format": _check_format_filter,
            "wordwrap": _check_wordwrap_filter,
        }
        for name, function in list(self.filters.items()):
            if name == "join":
                self.filters[name] = _bounded_join_filter(function)
            else:
                self.filters[name] = _measured(function, checks.get(name))

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.check()
        self._check_object(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.check()
        self._check_object(obj)
        return super().getitem(obj, argument)

    def _check_object(self, obj: Any) -> None:
        """Fail on an undefined value before walking into it, and note data records.

        Without the first check, ``cycler.__init__`` on a removed global reports
        an unsafe attribute of an undefined object instead of "'cycler' is
        undefined". ``str()`` of a ``StrictUndefined`` raises its own error: an
        UndefinedError, or the SecurityError of an unsafe attribute.
        """
        if isinstance(obj, Undefined):
            str(obj)
        origin = self.record_origins.get(id(obj))
        if origin is not None:
            self.current_origin = origin

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.budget.check()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            args = _check_string_method(owner, name, args)
        elif _is_integer(owner) and name == "to_bytes" and args:
            _check_width(f"int.to_bytes({args[0]})", args[0])
        result = super().call(__context, __obj, *args, **kwargs)
        check_size(result)
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.budget.check()
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
            _check_product(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "+":
            _check_concatenation(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Return the sandbox's ``str.format`` wrapper, with a formatter that
        checks every field's width and precision."""
        wrapper = super().wrap_str_format(value)
        if wrapper is None or type(value.__self__) is not str:
            return wrapper
        template = value.__self__
        formatter = BoundedFormatter(self)
        is_format_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return check_size(formatter.vformat(template, args, kwargs))

        return bounded


class BoundedFormatter(SandboxedFormatter):
    """The sandbox's ``str.format`` formatter, rejecting widths and precisions
    over ``MAX_VALUE_LENGTH``."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_spec_numbers(format_spec, "format field")
        return super().format_field(value, format_spec)


def check_size(value: Any) -> Any:
    """Return ``value``; raise LimitExceeded when it is a string, list, tuple or
    dict longer than ``MAX_VALUE_LENGTH``, or an integer over ``MAX_INTEGER_BITS``."""
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_VALUE_LENGTH:
        raise LimitExceeded(
            f"a {type(value).__name__} of {len(value)} items is longer than "
            f"{MAX_VALUE_LENGTH}, the maximum that templates allow"
        )
    if _is_integer(value) and value.bit_length() > MAX_INTEGER_BITS:
        raise LimitExceeded(
            f"an integer of {value.bit_length()} bits is larger than "
            f"{MAX_INTEGER_BITS} bits, the maximum that templates allow"
        )
    return value


def _too_long(what: str, length: int) -> LimitExceeded:
    return LimitExceeded(
        f"{what} would build a value of {length} characters or items, more than "
        f"{MAX_VALUE_LENGTH}, the maximum that templates allow"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(base: Any, exponent: Any) -> None:
    if not (_is_number(base) and _is_number(exponent)):
        return
    if abs(base) > 1 and abs(exponent) > MAX_EXPONENT:
        raise LimitExceeded(
            f"the exponent {exponent} is larger than {MAX_EXPONENT}, the largest "
            "that templates allow"
        )
    if _is_integer(base) and _is_integer(exponent) and exponent > 0:
        bits = base.bit_length() * exponent
        if abs(base) > 1 and bits > MAX_INTEGER_BITS:
            raise LimitExceeded(
                f"the power would have about {bits} bits, more than "
                f"{MAX_INTEGER_BITS} bits, the maximum that templates allow"
            )


def _check_product(left: Any, right: Any) -> None:
    if _is_integer(left) and _is_integer(right):
        bits = left.bit_length() + right.bit_length()
        if bits > MAX_INTEGER_BITS:
            raise LimitExceeded(
                f"the product would have about {bits} bits, more than "
                f"{MAX_INTEGER_BITS} bits, the maximum that templates allow"
            )


def _check_repeat(sequence: Any, count: Any) -> None:
    if not isinstance(sequence, (str, bytes, list, tuple)) or not _is_integer(count):
        return
    if len(sequence) * count > MAX_VALUE_LENGTH:
        raise LimitExceeded(
            f"repeating a {type(sequence).__name__} {count} times would build "
            f"more than {MAX_VALUE_LENGTH} items, the maximum that templates allow"
        )


def _check_concatenation(left: Any, right: Any) -> None:
    if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        length = len(left) + len(right)
        if length > MAX_VALUE_LENGTH:
            raise _too_long("'+'", length)


def _check_spec_numbers(spec: str, what: str) -> None:
    for number in _NUMBER_IN_SPEC.findall(spec):
        if int(number) > MAX_VALUE_LENGTH:
            raise LimitExceeded(
                f"the {what} {spec!r} has a width or precision over "
                f"{MAX_VALUE_LENGTH}, the maximum that templates allow"
            )


def _check_percent_format(template: str, arguments: Any) -> None:
    """Check the widths and precisions of a ``%`` format, also those given by
    ``*`` in the arguments."""
    for match in _PERCENT_SPEC.finditer(template):
        _check_spec_numbers(match.group(0), "'%' format")
        if "*" in match.group(0):
            values = arguments if isinstance(arguments, tuple) else (arguments,)
            for value in values:
                if _is_integer(value) and abs(value) > MAX_VALUE_LENGTH:
                    raise _too_long("a '*' width", abs(value))


def _replaced_length(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not (isinstance(old, str) and isinstance(new, str)):
        return len(text)
    found = len(text) + 1 if old == "" else text.count(old)
    if _is_integer(count) and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


def _joined_length(separator: str, items: list) -> int:
    lengths = sum(len(item) if isinstance(item, str) else 0 for item in items)
    return lengths + len(separator) * max(len(items) - 1, 0)


def _check_string_method(text: str, name: str, args: tuple) -> tuple:
    """Check a call of a ``str`` method that can enlarge ``text``; return the
    arguments, with an iterable given to ``join`` turned into a list."""
    if name in _WIDTH_METHODS and args:
        _check_width(f"str.{name}({args[0]})", args[0])
    elif name == "expandtabs":
        size = args[0] if args and _is_integer(args[0]) else 8
        length = len(text) + text.count("\t") * max(size, 0)
        if length > MAX_VALUE_LENGTH:
            raise _too_long("str.expandtabs", length)
    elif name == "replace" and len(args) >= 2:
        length = _replaced_length(text, *args[:3])
        if length > MAX_VALUE_LENGTH:
            raise _too_long("str.replace", length)
    elif name == "join" and args:
        items = _bounded_list(args[0])
        length = _joined_length(text, items)
        if length > MAX_VALUE_LENGTH:
            raise _too_long("str.join", length)
        return (items, *args[1:])
    return args


def _bounded_list(value: Any) -> list:
    """Return the items of ``value`` as a list, failing past ``MAX_VALUE_LENGTH``."""
    if isinstance(value, (str, list, tuple, dict)):
        check_size(value)
        return list(value)
    items = []
    for item in value:
        items.append(item)
        if len(items) > MAX_VALUE_LENGTH:
            raise _too_long("iterating", len(items))
    return items


def _measured(function: Callable, check: Callable[..., None] | None) -> Callable:
    """Wrap a filter: run ``check`` on its arguments, and measure its result.

    Jinja2 reads a filter's ``jinja_pass_arg`` attribute to pass the context,
    eval context or environment first, so the wrapper copies it.
    """
    pass_arg = getattr(function, "jinja_pass_arg", None)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if check is not None:
            check(*(args[1:] if pass_arg else args), **kwargs)
        return check_size(function(*args, **kwargs))

    if pass_arg is not None:
        wrapper.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    wrapper.__name__ = getattr(function, "__name__", "filter")
    return wrapper


def _bounded_join_filter(function: Callable) -> Callable:
    """Wrap the ``join`` filter so that it checks the joined length first."""

    def join(eval_context: Any, value: Any, d: str = "", attribute: Any = None):
        items = _bounded_list(value)
        if attribute is None:
            length = _joined_length(str(d), [str(item) for item in items])
            if length > MAX_VALUE_LENGTH:
                raise _too_long("the join filter", length)
        return check_size(function(eval_context, items, d, attribute))

    join.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return join


def _check_width(what: str, width: Any) -> None:
    if _is_integer(width) and width > MAX_VALUE_LENGTH:
        raise _too_long(what, width)


def _check_center_filter(value: Any, width: Any = 80) -> None:
    _check_width(f"the center filter with width {width}", width)


def _check_wordwrap_filter(
    value: Any, width: Any = 79, break_long_words: bool = True, wrapstring: Any = None
) -> None:
    text = str(value)
    if isinstance(wrapstring, str) and _is_integer(width) and width > 0:
        length = len(text) + (len(text) // width + 1) * len(wrapstring)
        if length > MAX_VALUE_LENGTH:
            raise _too_long("the wordwrap filter", length)


def _check_indent_filter(
    value: Any, width: Any = 4, first: bool = False, blank: bool = False
) -> None:
    size = 0
    if isinstance(width, str):
        size = len(width)
    elif _is_integer(width):
        size = width
    lines = str(value).count("\n") + 1
    length = len(str(value)) + lines * max(size, 0)
    if length > MAX_VALUE_LENGTH:
        raise _too_long("the indent filter", length)


def _check_replace_filter(value: Any, old: Any = "", new: Any = "", count: Any = None):
    length = _replaced_length(str(value), old, new, -1 if count is None else count)
    if length > MAX_VALUE_LENGTH:
        raise _too_long("the replace filter", length)


def _check_format_filter(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_percent_format(str(value), args)
