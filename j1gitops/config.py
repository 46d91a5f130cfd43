"""``j1gitops.yaml``: the repository's scope, inventory paths, target and rules.

A missing file means the defaults below. Every key is checked: an unknown key or
a value of the wrong type is a ``ConfigError`` that names the line. The file can
never set a J1 URL or credential: those come from the environment only, so that a
pull request cannot send the API key to another host.

    scope: example-company        # J1 sync scope this repository owns (default j1gitops)
    inventory: [inventory]        # files or folders to read (default [inventory])
    target: local                 # local | jupiterone
    local:
      path: .j1gitops/local.db    # the embedded target's SQLite file
    validation:
      strict: false               # apply the data model verbatim
      data_model: error           # error | warning: the level of data-model findings
      classes:                    # per-class override of that level
        Device: warning
    deletes:
      max_count: 25               # a plan deleting more fails without --allow-deletes
      max_percent: 20             # ... or more than this share of the scope
    vars: {}                      # variables for *.j2 templates
    data: {}                      # name: path of a CSV, JSON or YAML file for templates
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from j1gitops.diagnostics import Location
from j1gitops.errors import ConfigError
from j1gitops.inventory.yamlload import SourceDict, load_file

CONFIG_FILE = "j1gitops.yaml"
TARGETS = ("local", "jupiterone")
LEVELS = ("error", "warning")
# Keys that would redirect the API key; rejected with a pointer to the environment.
URL_KEY_SUFFIXES = ("url", "uri", "endpoint", "host")
FORBIDDEN_KEYS = {
    "url",
    "base_url",
    "api_base_url",
    "graphql_url",
    "endpoint",
    "host",
    "api_key",
    "apikey",
    "token",
    "api_token",
    "account",
    "account_id",
    "region",
}


@dataclass
class ValidationConfig:
    strict: bool = False
    data_model: str = "error"
    classes: dict[str, str] = field(default_factory=dict)


@dataclass
class DeleteGuard:
    max_count: int | None = None
    max_percent: float | None = None


@dataclass
class Config:
    scope: str = "j1gitops"
    inventory: list[str] = field(default_factory=lambda: ["inventory"])
    target: str = "local"
    local_path: str = ".j1gitops/local.db"
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    deletes: DeleteGuard = field(default_factory=DeleteGuard)
    vars: dict[str, Any] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    # Where the file was read from (None when the defaults apply), and the folder
    # that relative paths in it are relative to.
    path: str | None = None
    root: str = "."


def _names_url_or_credential(name: str) -> bool:
    lowered = name.lower()
    return lowered in FORBIDDEN_KEYS or lowered.endswith(URL_KEY_SUFFIXES)


class _Reader:
    """Check one mapping of the config file against what it may hold."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, node: Any, key: str | None, message: str) -> None:
        line, column = (1, 1)
        if isinstance(node, SourceDict):
            line, column = (
                node.key_positions.get(key, node.position) if key else node.position
            )
        raise ConfigError(f"{Location(self.path, line, column)}: {message}")

    def mapping(self, node: Any, key: str, parent: Any, allowed: set[str]) -> dict:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.fail(parent, key, f"'{key}' must be a mapping")
        for name in node:
            self.check_key(node, name, allowed, prefix=f"{key}.")
        return node

    def check_key(
        self, node: dict, name: str, allowed: set[str], prefix: str = ""
    ) -> None:
        if name in allowed:
            return
        if _names_url_or_credential(name):
            self.fail(
                node,
                name,
                f"'{prefix}{name}' cannot be set in {CONFIG_FILE}: J1 URLs and "
                "credentials come only from the environment (J1_API_KEY, "
                "J1_ACCOUNT_ID, J1_REGION, J1_API_BASE_URL)",
            )
        known = ", ".join(sorted(allowed))
        self.fail(node, name, f"unknown key '{prefix}{name}'; known keys: {known}")

    def string(self, node: dict, key: str, default: str, choices=None) -> str:
        value = node.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(node, key, f"'{key}' must be a non-empty string, found {value!r}")
        if choices and value not in choices:
            self.fail(
                node,
                key,
                f"'{key}' must be one of {', '.join(choices)}, found {value!r}",
            )
        return value

    def number(
        self, node: dict, key: str, maximum: float | None = None, integer: bool = False
    ):
        value = node.get(key)
        if value is None:
            return None
        kind = "a whole number" if integer else "a number"
        allowed = int if integer else (int, float)
        wrong_type = isinstance(value, bool) or not isinstance(value, allowed)
        # NaN compares false with everything, so it would switch a limit off.
        if wrong_type or not math.isfinite(value) or value < 0:
            self.fail(
                node, key, f"'{key}' must be {kind} of at least 0, found {value!r}"
            )
        if maximum is not None and value > maximum:
            self.fail(node, key, f"'{key}' must be at most {maximum}, found {value!r}")
        return value


TOP_KEYS = {
    "scope",
    "inventory",
    "target",
    "local",
    "validation",
    "deletes",
    "vars",
    "data",
}


def load_config(path: str | None = None, root: str = ".") -> Config:
    """Read the config file (``j1gitops.yaml`` under ``root`` unless ``path`` is given)."""
    config_path = path or os.path.join(root, CONFIG_FILE)
    if not os.path.exists(config_path):
        if path is not None:
            raise ConfigError(f"config file {path} does not exist")
        return Config(root=root)
    loaded = load_file(config_path, os.path.relpath(config_path))
    errors = [d for d in loaded.diagnostics if d.is_error]
    if errors:
        first = errors[0]
        raise ConfigError(f"{first.location}: {first.message}")
    if len(loaded.documents) > 1:
        raise ConfigError(
            f"{os.path.relpath(config_path)}: the config file must hold one document"
        )
    document = loaded.documents[0] if loaded.documents else None
    config = Config(path=config_path, root=os.path.dirname(config_path) or ".")
    if document is None:
        return config
    reader = _Reader(os.path.relpath(config_path))
    if not isinstance(document, dict):
        reader.fail(document, None, "the config file must be a mapping")
    for name in document:
        reader.check_key(document, name, TOP_KEYS)
    _read_top(reader, document, config)
    return config


def _read_top(reader: _Reader, document: dict, config: Config) -> None:
    config.scope = reader.string(document, "scope", config.scope)
    config.target = reader.string(document, "target", config.target, TARGETS)
    config.inventory = _string_list(reader, document, "inventory", config.inventory)
    for path in config.inventory:
        if os.path.isabs(path) or os.path.normpath(path).split(os.sep)[0] == "..":
            reader.fail(
                document,
                "inventory",
                f"inventory path {path!r} is outside the repository; list paths "
                "relative to the folder of j1gitops.yaml, inside it",
            )
    local = reader.mapping(document.get("local"), "local", document, {"path"})
    config.local_path = (
        reader.string(local, "path", config.local_path)
        if local
        else (config.local_path)
    )
    _read_validation(reader, document, config)
    deletes = reader.mapping(
        document.get("deletes"), "deletes", document, {"max_count", "max_percent"}
    )
    config.deletes = DeleteGuard(
        max_count=reader.number(deletes, "max_count", integer=True),
        max_percent=reader.number(deletes, "max_percent", maximum=100),
    )
    variables = document.get("vars") or {}
    if not isinstance(variables, dict):
        reader.fail(document, "vars", "'vars' must be a mapping of names to values")
    config.vars = dict(variables)
    data = document.get("data") or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        reader.fail(document, "data", "'data' must map names to file paths")
    config.data = dict(data)


def _read_validation(reader: _Reader, document: dict, config: Config) -> None:
    node = reader.mapping(
        document.get("validation"),
        "validation",
        document,
        {"strict", "data_model", "classes"},
    )
    strict = node.get("strict", False)
    if not isinstance(strict, bool):
        reader.fail(node, "strict", f"'strict' must be true or false, found {strict!r}")
    level = reader.string(node, "data_model", "error", LEVELS) if node else "error"
    classes = node.get("classes") or {}
    if not isinstance(classes, dict):
        reader.fail(
            node, "classes", "'classes' must map class names to error or warning"
        )
    for name, value in classes.items():
        if value not in LEVELS:
            reader.fail(
                classes,
                name,
                f"level for class {name} must be error or warning, found {value!r}",
            )
        _check_class_name(reader, classes, name)
    config.validation = ValidationConfig(strict, level, dict(classes))


def _check_class_name(reader: _Reader, classes: dict, name: str) -> None:
    from j1gitops.validation.schemas import class_names, closest_name

    known = class_names()
    if name not in known:
        hint = closest_name(name, known)
        suggestion = f"; did you mean {hint!r}?" if hint else ""
        reader.fail(
            classes,
            name,
            f"unknown data-model class {name!r} in validation.classes{suggestion}",
        )


def _string_list(
    reader: _Reader, node: dict, key: str, default: list[str]
) -> list[str]:
    value = node.get(key, default)
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item for item in value)
    ):
        reader.fail(
            node, key, f"'{key}' must be a path or a list of paths, found {value!r}"
        )
    return list(value)
