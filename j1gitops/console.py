"""Output streams: results on stdout, progress and diagnostics on stderr."""

from __future__ import annotations

import sys

from rich.console import Console

from j1gitops.errors import UsageError
from j1gitops.secrets import redact

COLOR_CHOICES = ("auto", "always", "never")


def make_console(color: str = "auto", stderr: bool = False) -> Console:
    """Return a rich console for stdout or stderr that honours ``--color``.

    ``auto`` colours only a terminal, and ``NO_COLOR`` turns colour off as usual.
    """
    if color not in COLOR_CHOICES:
        raise UsageError(f"invalid --color {color!r}; use auto, always or never")
    stream = sys.stderr if stderr else sys.stdout
    if color == "always":
        return Console(
            file=stream, force_terminal=True, highlight=False, soft_wrap=True
        )
    if color == "never":
        return Console(
            file=stream,
            no_color=True,
            color_system=None,
            highlight=False,
            soft_wrap=True,
            force_terminal=False,
        )
    return Console(file=stream, highlight=False, soft_wrap=True)


def progress_printer(quiet: bool = False):
    """Return a callback that writes one progress line to stderr."""

    def progress(message: str) -> None:
        if not quiet:
            print(redact(message), file=sys.stderr, flush=True)

    return progress
