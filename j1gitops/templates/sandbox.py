"""The Jinja2 environment that inventory templates run in.

It is Jinja2's ``ImmutableSandboxedEnvironment`` (no attribute that starts with
``_``, no internal attributes of functions, frames or types, no methods that
change lists, dicts or sets), with:

- ``StrictUndefined``, so an unknown variable or key is an error, not "";
- no loader, so ``include``, ``import`` and ``extends`` cannot open files;
- the ``cycler``, ``joiner``, ``lipsum`` and ``namespace`` globals removed, and
  the ``random`` filter, so output depends only on the template and its data;
- ``*`` and ``**`` checked, so ``'x' * 10**9`` or ``9**9**9`` fail at once
  instead of exhausting memory or time.

Templates see the config's ``vars`` as variables and the data files under
``data``, and nothing of the environment, the file system or Python itself.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from j1gitops.templates.linemap import LineMarks

REMOVED_GLOBALS = ("cycler", "joiner", "lipsum", "namespace")
REMOVED_FILTERS = ("random",)
MAX_REPEAT_LENGTH = 1_000_000  # characters or items that '*' may build
MAX_EXPONENT = 1024


class LimitExceeded(SecurityError):
    """An operation that would build a value larger than templates allow."""


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox for inventory templates.

    It also records the data record that a template read last, so that output
    lines can name the record they came from.
    """

    intercepted_binops = frozenset({"*", "**"})

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
        # id() of each data record -> where it comes from, such as "data/x.csv:4".
        self.record_origins: dict[int, str] = {}
        self.current_origin: str | None = None

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._check_object(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
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

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**" and _is_large_power(left, right):
            raise LimitExceeded(
                f"the exponent {right} is larger than {MAX_EXPONENT}, the largest "
                "that templates allow"
            )
        return super().call_binop(context, operator, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_large_power(base: Any, exponent: Any) -> bool:
    if not (_is_number(base) and _is_number(exponent)):
        return False
    return abs(base) > 1 and abs(exponent) > MAX_EXPONENT


def _check_repeat(sequence: Any, count: Any) -> None:
    if not isinstance(sequence, (str, list, tuple)) or not isinstance(count, int):
        return
    if len(sequence) * count > MAX_REPEAT_LENGTH:
        raise LimitExceeded(
            f"repeating a {type(sequence).__name__} {count} times would build "
            f"more than {MAX_REPEAT_LENGTH} items, the most that templates allow"
        )
