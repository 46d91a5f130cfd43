"""ISO 8601 dates in epoch-millisecond properties, converted to J1's numbers.

The data model types dates such as ``createdOn`` and ``lastSeenOn`` as numbers of
milliseconds since 1970-01-01T00:00:00Z. Inventory authors may write them as ISO
8601 strings instead. ``normalize_dates`` replaces those in place, so that
validation, planning and upload all see the number that J1 stores.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from j1gitops.bulkmatch import all_match, lines_pattern
from j1gitops.diagnostics import Diagnostic, error, warning
from j1gitops.inventory.model import Entity, Inventory
from j1gitops.validation import schemas

RULE = "invalid-date"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MS = timedelta(milliseconds=1)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)
EXAMPLES = "an ISO 8601 date such as 2024-01-31 or 2024-01-31T12:00:00Z"


class InvalidDate(ValueError):
    """A string that is not an ISO 8601 date, or names a day that does not exist."""


# The form that exports write most, such as 2024-01-31T12:00:00.000Z, which
# datetime.fromisoformat reads once the Z is spelled +00:00 (Python 3.10 reads no
# Z). It is a subset of _DATE_TIME that fromisoformat reads the same way.
_COMMON_FORM = (
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}(?:\d{3})?)?(Z|[+-]\d{2}:\d{2})"
)
_COMMON_DATE_TIME = re.compile(_COMMON_FORM, re.ASCII)
_COMMON_LINES = lines_pattern(_COMMON_FORM)


def parse_iso8601(text: str) -> datetime:
    """Parse a date or date-time; a bare date is midnight UTC.

    A date-time without an offset is read as UTC.
    """
    common = _COMMON_DATE_TIME.fullmatch(text)
    if common is not None:
        try:
            if common.group(1) == "Z":
                return datetime.fromisoformat(f"{text[:-1]}+00:00")
            return datetime.fromisoformat(text)
        except ValueError:
            pass  # a day or time that does not exist; the message comes below
    return parse_any_iso8601(text)


def parse_any_iso8601(text: str) -> datetime:
    """Parse every form that ``parse_iso8601`` takes, without its fast path."""
    # NOTE: J1 documents no rule for date-times without an offset; UTC is this
    # tool's choice, so the result does not depend on the machine's time zone.
    match = _DATE.fullmatch(text) or _DATE_TIME.fullmatch(text)
    if match is None:
        raise InvalidDate("it is not in ISO 8601 form")
    parts = match.groups() + (None,) * (11 - len(match.groups()))
    year, month, day, hour, minute, second, fraction, _, sign, off_h, off_m = parts
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        zone = timezone(-offset if sign == "-" else offset)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        numbers = (year, month, day, hour or 0, minute or 0, second or 0)
        return datetime(*map(int, numbers), micro, tzinfo=zone)
    except ValueError as exc:
        raise InvalidDate(f"it names no real date or time ({exc})") from None


def to_epoch_ms(value: Any) -> Any:
    """Return ``value`` as epoch milliseconds in UTC.

    Numbers, booleans, None and other non-date values are returned unchanged, so
    converting twice changes nothing. Raises InvalidDate for a string that is not
    a real ISO 8601 date.
    """
    if isinstance(value, str):
        moment = parse_iso8601(value)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    else:
        return value
    return (moment - EPOCH) // ONE_MS


def common_epoch_ms(texts: Sequence[str]) -> list[int] | None:
    """Return ``to_epoch_ms`` of each text when all are in the form exports
    write most (2024-01-31T12:00:00.000Z) and name real times; else None.

    This converts a column of dates about six times as fast as one call each.
    """
    if not all_match(_COMMON_LINES, texts):
        return None
    # In this form a Z can only be the last character.
    spelled = map(operator.methodcaller("replace", "Z", "+00:00"), texts)
    try:
        moments = list(map(datetime.fromisoformat, spelled))
    except ValueError:
        return None
    spans = map(operator.sub, moments, itertools.repeat(EPOCH))
    return list(map(operator.floordiv, spans, itertools.repeat(ONE_MS)))


def normalize_entity_dates(entity: Entity) -> dict[str, str]:
    """Convert the entity's date strings in place; return the failures by property."""
    failures: dict[str, str] = {}
    properties = entity.properties
    for name in schemas.date_properties(entity.classes):
        if name not in properties:
            continue
        try:
            properties[name] = to_epoch_ms(properties[name])
        except InvalidDate as exc:
            failures[name] = str(exc)
    return failures


# Epoch milliseconds below this are before 1973-03-03: a number that small in a
# date property is much more likely seconds, an Excel day count or a year.
PLAUSIBLE_MS = 10**11
IMPLAUSIBLE_RULE = "implausible-date"


def implausible_dates(entity: Entity) -> list[Diagnostic]:
    """Warn about date properties holding numbers too small to be epoch ms."""
    found = []
    for name in schemas.date_properties(entity.classes):
        value = entity.properties.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if 0 <= value < PLAUSIBLE_MS:
            found.append(
                warning(
                    entity.property_location(name),
                    f"{entity.label()}: {name} {value!r} is read as milliseconds "
                    "since 1970, a moment in the early 1970s; if it is seconds, a "
                    f"day count or a year, write {EXAMPLES} instead",
                    IMPLAUSIBLE_RULE,
                )
            )
    return found


def date_message(entity: Entity, name: str, reason: str) -> str:
    value = entity.properties[name]
    return (
        f"{entity.label()}: {name} {value!r} is not a valid date because {reason}; "
        f"write {EXAMPLES}, or a number of milliseconds since 1970-01-01T00:00:00Z"
    )


def normalize_dates(inventory: Inventory) -> list[Diagnostic]:
    """Convert ISO 8601 strings in the data model's date properties to epoch ms.

    Entities are changed in place. A value that cannot be converted is left as it
    is and reported as an error at its property's line. Running this again on the
    same inventory changes nothing and reports the same errors.
    """
    diagnostics = []
    for entity in inventory.entities:
        for name, reason in normalize_entity_dates(entity).items():
            location = entity.property_location(name)
            diagnostics.append(
                error(location, date_message(entity, name, reason), RULE)
            )
    return diagnostics
