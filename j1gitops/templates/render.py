"""Render one ``*.yaml.j2`` or ``*.json.j2`` inventory file and load its output.

Every failure becomes a diagnostic at the template's file and line (or at the
data file's), never an exception, so that the reader reports it with the other
findings and the plan refuses to run on a file that failed.
"""

from __future__ import annotations

import os
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

from j1gitops.config import Config
from j1gitops.diagnostics import Location, error
from j1gitops.inventory.yamlload import LoadedFile, decode_text, load_text
from j1gitops.templates.datafiles import DataSet, load_data, plain_value
from j1gitops.templates.linemap import strip_marks
from j1gitops.templates.origins import OutputMap, remap_loaded, take_duplicates
from j1gitops.templates.sandbox import (
    LimitExceeded,
    RenderTimeout,
    TemplateEnvironment,
)

RULE = "template"
MAX_OUTPUT_CHARACTERS = 50_000_000
DATA_NAME = "data"
# Exceptions that an expression in a template can raise on bad values, or on
# values too large: ValueError covers an integer too long to print (Python's
# int_max_str_digits), ArithmeticError an OverflowError.
RENDER_ERRORS = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
    RecursionError,
    MemoryError,
)


class OutputTooLarge(TemplateError):
    """A template produced more text than ``MAX_OUTPUT_CHARACTERS``."""


class TemplateRenderer:
    """Render inventory templates with the config's ``vars`` and ``data`` files.

    The data files are loaded once, on the first template, and shared by all.
    """

    def __init__(self, config: Config):
        self.config = config
        self.environment = TemplateEnvironment()
        self._data: DataSet | None = None

    def data(self) -> DataSet:
        if self._data is None:
            config_path = (
                os.path.relpath(self.config.path)
                if self.config.path
                else ("j1gitops.yaml")
            )
            self._data = load_data(config_path, self.config.root, self.config.data)
            self.environment.record_origins = self._data.origins
            if DATA_NAME in self.config.vars:
                self._data.diagnostics.append(
                    error(
                        Location(config_path),
                        f"'vars' may not define {DATA_NAME!r}, which names the data "
                        "files in templates; rename the variable",
                        RULE,
                    )
                )
        return self._data

    def context(self) -> dict[str, Any]:
        variables = {
            name: plain_value(value) for name, value in self.config.vars.items()
        }
        variables[DATA_NAME] = self.data().values
        return variables

    def __call__(self, full_path: str, display_path: str) -> LoadedFile:
        result = LoadedFile(display_path)
        data = self.data()
        if data.diagnostics:
            result.diagnostics.extend(data.diagnostics)
            return result
        source = _read_source(full_path, display_path, result)
        if source is None:
            return result
        try:
            output, records = self.render(self.compile(source, display_path))
        except RENDER_ERRORS as exc:
            result.diagnostics.append(self._failure(exc, display_path))
            return result
        text, lines = strip_marks(output, self.environment.line_mark_pattern)
        loaded = load_text(text, display_path)
        mapping = OutputMap(display_path, lines, records)
        duplicates = take_duplicates(loaded, mapping)
        remap_loaded(loaded, mapping)
        loaded.diagnostics.extend(duplicates)
        return loaded

    def compile(self, source: str, display_path: str) -> Template:
        environment = self.environment
        code = environment.compile(source, name=display_path, filename=display_path)
        return environment.template_class.from_code(
            environment, code, environment.make_globals(None)
        )

    def render(self, template: Template) -> tuple[str, list[str | None]]:
        """Render ``template`` within the sandbox's time budget; return its output
        and, for each output line, the data record read last when that line ended."""
        environment = self.environment
        environment.current_origin = None
        chunks: list[str] = []
        records: list[str | None] = []
        size = 0
        with environment.budget.running():
            for chunk in template.generate(self.context()):
                chunks.append(chunk)
                records.extend([environment.current_origin] * chunk.count("\n"))
                size += len(chunk)
                if size > MAX_OUTPUT_CHARACTERS:
                    raise OutputTooLarge(
                        f"the output is longer than {MAX_OUTPUT_CHARACTERS} characters"
                    )
        records.append(environment.current_origin)
        return "".join(chunks), records

    def _failure(self, exc: BaseException, display_path: str):
        line = (
            getattr(exc, "lineno", None)
            if isinstance(exc, TemplateSyntaxError)
            else (_template_line(exc, display_path))
        )
        record = self.environment.current_origin
        detail = (
            f" (data record {record})"
            if record and not isinstance(exc, TemplateSyntaxError)
            else ""
        )
        return error(
            Location(display_path, line or 1, 1),
            f"{_describe(exc)}{detail}; {_advice(exc)}",
            RULE,
        )


def _read_source(full_path: str, display_path: str, result: LoadedFile) -> str | None:
    try:
        with open(full_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        result.diagnostics.append(
            error(Location(display_path), f"cannot read file: {exc.strerror}", "io")
        )
        return None
    text, problem = decode_text(data, display_path)
    if problem is not None:
        result.diagnostics.append(problem)
    return text


def _template_line(exc: BaseException, filename: str) -> int | None:
    """Return the innermost template line in the traceback of ``exc``.

    Jinja2 rewrites tracebacks so that frames of template code carry the
    template's file name and line numbers.
    """
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == filename:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _describe(exc: BaseException) -> str:
    text = str(exc.message if isinstance(exc, TemplateSyntaxError) else exc).rstrip(".")
    if isinstance(exc, TemplateSyntaxError):
        return f"invalid template syntax: {text}"
    if isinstance(exc, LimitExceeded):
        return f"template exceeded a limit: {text}"
    if isinstance(exc, MemoryError):
        return "template ran out of memory building a value"
    if isinstance(exc, RecursionError):
        return "template recursed too deeply (a macro that calls itself?)"
    if isinstance(exc, SecurityError):
        return f"template rejected by the sandbox: {text}"
    if isinstance(exc, UndefinedError):
        return f"undefined value in template: {text}"
    if isinstance(exc, TypeError) and "no loader" in text:
        return "templates cannot include, import or extend other files"
    return f"template failed: {type(exc).__name__}: {text}"


def _advice(exc: BaseException) -> str:
    if isinstance(exc, RenderTimeout):
        return "make the loops shorter"
    if isinstance(exc, (LimitExceeded, MemoryError, OutputTooLarge)):
        return "build smaller values"
    if isinstance(exc, UndefinedError):
        return (
            "variables come from 'vars' and data files from 'data' in j1gitops.yaml; "
            "check the name"
        )
    if isinstance(exc, SecurityError):
        return "templates may use only their variables and data, not Python internals"
    if isinstance(exc, TemplateSyntaxError):
        return "fix the template"
    return "fix the template or its data"
