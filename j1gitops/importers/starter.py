"""The classify step's suggestion: a class, a type, a key and a name for a table."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from j1gitops.errors import UsageError
from j1gitops.importers import classify
from j1gitops.importers.classify import ClassScore, Reference
from j1gitops.importers.entities import check_classes
from j1gitops.importers.profile import TableProfile

MIN_KEY_LENGTH = 10  # GraphObject's _key minLength in the data model
NAME_SOURCES = ("displayName", "hostname", "username", "email", "serial", "title")


@dataclass
class Suggestion:
    """A class for a table, and how its columns would map to that class."""

    profile: TableProfile
    ranking: list[ClassScore]
    chosen: ClassScore
    type: str
    key: str | None
    key_pattern: str | None
    references: list[Reference]
    # The pattern that fills the required name and displayName when the file
    # has neither, such as "{first_name} {last_name}".
    name_pattern: str | None


def suggest(profile: TableProfile, class_name: str | None = None, top: int = 5):
    """Rank the classes for ``profile`` and work out a mapping for the best one,
    or for ``class_name``: a class, or several separated by commas."""
    ranking = classify.rank_classes(profile, top)
    if class_name is not None:
        chosen = classify.score_class(parse_classes(class_name), profile.columns)
    elif not ranking or ranking[0].score <= 0:
        raise UsageError(
            f"no data-model class has properties that match the columns of "
            f"{profile.path}; pass --class NAME ('j1gitops schemas' lists them)"
        )
    else:
        chosen = ranking[0]
    type_ = suggest_type(profile.path, chosen.classes[0])
    keys = classify.key_candidates(profile)
    key = keys[0] if keys else None
    return Suggestion(
        profile=profile,
        ranking=ranking,
        chosen=chosen,
        type=type_,
        key=key,
        key_pattern=_key_pattern(profile, key, type_),
        references=classify.references(profile, chosen.matches, key),
        name_pattern=_name_pattern(chosen, key),
    )


def parse_classes(text: str) -> tuple[str, ...]:
    """Return the classes of ``--class``, such as ``Device,Host``; raise
    UsageError for an unknown one."""
    classes = tuple(
        dict.fromkeys(name.strip() for name in text.split(",") if name.strip())
    )
    if not classes:
        raise UsageError(f"invalid --class {text!r}; give a class such as Device")
    check_classes(classes, "--class")
    return classes


def suggest_type(path: str, class_name: str) -> str:
    """Return a starting ``_type``: the file name in snake_case, else the class."""
    stem = os.path.splitext(os.path.basename(path))[0]
    words = re.findall(r"[A-Za-z][a-z0-9]*|[0-9]+", stem) or [class_name]
    text = "_".join(word.lower() for word in words)
    return text if len(text) >= 3 else f"{text}_{class_name.lower()}"


def _key_pattern(profile: TableProfile, key: str | None, type_: str) -> str | None:
    if key is None:
        return None
    column = next(c for c in profile.columns if c.name == key)
    pattern = "{" + key + "}"
    return pattern if column.min_length >= MIN_KEY_LENGTH else f"{type_}:{pattern}"


def _name_pattern(chosen: ClassScore, key: str | None) -> str | None:
    """Return a pattern for the required name and displayName when the file has
    no name column: the first and last name, else the likeliest single column."""
    found = {m.property: m.column for m in chosen.matches}
    if "name" in found:
        return None
    if "firstName" in found and "lastName" in found:
        return "{" + found["firstName"] + "} {" + found["lastName"] + "}"
    for prop in NAME_SOURCES:
        if prop in found:
            return "{" + found[prop] + "}"
    return "{" + key + "}" if key else None
