"""The data files that the config names for templates, loaded as records.

A CSV file becomes a list of records (header name -> text value). A JSON or
YAML file holding a list of mappings becomes a list of records too; one holding
a mapping is passed as that mapping. Each record remembers where it comes from
(``data/devices.csv:5``, the line its row or mapping starts on, or
``data/x.json[3]``), for messages.

A data file must be inside the repository (the config's folder), after
resolving symbolic links, so that a template can never read other files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from j1gitops.diagnostics import Diagnostic, Location, error
from j1gitops.errors import LoadError
from j1gitops.importers.csvfile import read_csv
from j1gitops.importers.jsonrecords import load_json
from j1gitops.inventory.yamlload import SourceDict, SourceList, load_file

RULE = "data-file"
SUFFIXES = (".csv", ".json", ".yaml", ".yml")


@dataclass
class DataSet:
    """Every data file's value by name, where each record comes from, and the
    problems found loading them."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[int, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def resolve_inside(root: str, path: str) -> str:
    """Return the real path of ``path`` (relative to ``root``); raise LoadError
    when it lies outside ``root``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([real_root, real]) != real_root:
        raise LoadError(
            f"data file {path} is outside the repository ({real_root}); templates "
            "may read only files inside it, so move the file into the repository"
        )
    return real


def load_data(config_path: str, root: str, named: dict[str, str]) -> DataSet:
    """Load every data file in ``named`` (name -> path relative to ``root``)."""
    data = DataSet()
    for name, path in sorted(named.items()):
        try:
            real = resolve_inside(root, path)
            data.values[name] = _load_one(real, path, data.origins)
        except RecursionError:
            message = f"{path}: the data is nested too deeply to read; flatten it"
            data.diagnostics.append(_diagnostic(message, path, name, config_path))
        except LoadError as exc:
            data.diagnostics.append(_diagnostic(str(exc), path, name, config_path))
    return data


def _diagnostic(message: str, path: str, name: str, config_path: str) -> Diagnostic:
    """Place a loading error at the data file's line when the message names one."""
    match = re.match(rf"{re.escape(path)}:([0-9]+)(?::([0-9]+))?[^ ]*: (.*)", message)
    if match is None:
        return error(Location(config_path), f"data file {name!r}: {message}", RULE)
    line, column = int(match.group(1)), int(match.group(2) or 1)
    return error(
        Location(path, line, column), f"data file {name!r}: {match.group(3)}", RULE
    )


def _load_one(real: str, path: str, origins: dict[int, str]) -> Any:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise LoadError(f"data file {path} must be .csv, .json, .yaml or .yml")
    if not os.path.isfile(real):
        raise LoadError(
            f"data file {path} does not exist; check 'data' in j1gitops.yaml"
        )
    if suffix == ".csv":
        return _csv_records(real, path, origins)
    if suffix == ".json":
        return _records(
            load_json(real, display=path), path, origins, lambda i, _: f"{path}[{i}]"
        )
    return _records(_yaml_value(real, path), path, origins, _yaml_origin(path))


def _csv_records(real: str, path: str, origins: dict[int, str]) -> list[dict]:
    table = read_csv(real, display=path)
    records = []
    for label, cells in table.rows:
        record = dict(zip(table.names, cells, strict=True))
        origins[id(record)] = f"{path}:{label}"
        records.append(record)
    return records


def _yaml_value(real: str, path: str) -> Any:
    loaded = load_file(real, path)
    errors = [d for d in loaded.diagnostics if d.is_error]
    if errors:
        raise LoadError(f"{errors[0].location}: {errors[0].message}")
    if len(loaded.documents) != 1:
        raise LoadError(f"{path}:1: a data file must hold exactly one YAML document")
    return loaded.documents[0]


def _yaml_origin(path: str):
    def origin(index: int, item: Any) -> str:
        line = item.position[0] if isinstance(item, SourceDict) else index
        return f"{path}:{line}"

    return origin


def _records(value: Any, path: str, origins: dict[int, str], origin_of) -> Any:
    if isinstance(value, list):
        records = []
        for index, item in enumerate(value):
            plain = plain_value(item)
            if isinstance(plain, dict):
                origins[id(plain)] = origin_of(index, item)
            records.append(plain)
        return records
    if isinstance(value, dict):
        return plain_value(value)
    raise LoadError(f"{path}: a data file must hold a list of records or a mapping")


def plain_value(value: Any) -> Any:
    """Copy loaded YAML into plain dicts and lists, so that messages name them as
    such and no position attributes reach templates."""
    if isinstance(value, (SourceDict, dict)):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, (SourceList, list)):
        return [plain_value(item) for item in value]
    return value
