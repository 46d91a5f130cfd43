"""Diagnostics as text lines, JSON, or GitHub Actions workflow annotations."""

from __future__ import annotations

import json

from j1gitops.diagnostics import Diagnostic

DIAGNOSTIC_FORMATS = ("text", "json", "github")


def render_text(diagnostics: list[Diagnostic]) -> str:
    return "".join(f"{d}\n" for d in diagnostics)


def render_json(diagnostics: list[Diagnostic]) -> str:
    rows = [
        {
            "file": d.location.file,
            "line": d.location.line,
            "column": d.location.column,
            "severity": d.severity.value,
            "message": d.message,
            "rule": d.rule,
        }
        for d in diagnostics
    ]
    errors = sum(1 for d in diagnostics if d.is_error)
    document = {
        "format_version": 1,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": rows,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: list[Diagnostic]) -> str:
    """Render workflow commands (``::error file=...,line=...::message``).

    GitHub's escaping rules for workflow commands: ``%``, CR and LF in the
    message, and also ``:`` and ``,`` in property values.
    """
    lines = []
    for d in diagnostics:
        command = "error" if d.is_error else "warning"
        properties = (
            f"file={_escape_property(d.location.file)},line={d.location.line},"
            f"col={d.location.column},title={_escape_property(d.rule)}"
        )
        lines.append(f"::{command} {properties}::{_escape_data(d.message)}\n")
    return "".join(lines)


def render(diagnostics: list[Diagnostic], form: str) -> str:
    if form == "json":
        return render_json(diagnostics)
    if form == "github":
        return render_github(diagnostics)
    return render_text(diagnostics)
