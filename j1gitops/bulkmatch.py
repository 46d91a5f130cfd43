"""Match one regular expression against many strings in one call.

Calling ``fullmatch`` once per string costs more than the match itself for
short strings such as names, numbers and dates. Joining the strings with line
breaks and matching them as lines costs about a third as much. The pattern for
the lines is built from the pattern for one string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def lines_pattern(single: str, flags: int = re.ASCII) -> re.Pattern:
    """Compile a pattern that matches lines of which each matches ``single``.

    ``single`` must not match a line break, or ``all_match`` could take two
    strings for one.
    """
    return re.compile(f"(?:{single})(?:\\n(?:{single}))*", flags)


def all_match(lines: re.Pattern, strings: Sequence[str]) -> bool:
    """Return whether every string matches, given the pattern that
    ``lines_pattern`` built. A string that contains a line break never matches."""
    if not strings:
        return True
    joined = "\n".join(strings)
    return (
        joined.count("\n") == len(strings) - 1 and lines.fullmatch(joined) is not None
    )
