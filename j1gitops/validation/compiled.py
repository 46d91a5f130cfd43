"""Compiled validators, built once per class combination and cached.

Two engines check the same schemas. jsonschema-rs decides validity fast, in a few
microseconds per entity. python-jsonschema runs only on what failed, because its
errors carry the paths and keywords that the messages are built from. Both use
``formats.FORMATS`` and ECMAScript regular expressions, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator, ValidationError
from jsonschema.validators import extend

from j1gitops.validation import schemas
from j1gitops.validation.formats import FORMAT_CHECKER, FORMATS
from j1gitops.validation.patterns import ecma_search

RELATIONSHIP = ("relationship",)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator:
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict, instance: Any, schema: dict
) -> Iterator:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if ecma_search(pattern, name):
                yield from validator.descend(
                    value, subschema, path=name, schema_path=pattern
                )


EcmaDraft7Validator = extend(
    Draft7Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties},
)


def schema_for(classes: tuple[str, ...], strict: bool) -> dict[str, Any]:
    """Return the schema for known entity ``classes``, or the relationship schema
    for ``RELATIONSHIP``."""
    if classes == RELATIONSHIP:
        return schemas.relationship_schema()
    return schemas.combined_schema(classes, strict)


@cache
def fast_validator(classes: tuple[str, ...], strict: bool) -> Any:
    return jsonschema_rs.Draft7Validator(
        schema_for(classes, strict),
        formats=FORMATS,
        validate_formats=True,
        ignore_unknown_formats=False,
    )


@cache
def slow_validator(classes: tuple[str, ...], strict: bool) -> Draft7Validator:
    return EcmaDraft7Validator(
        schema_for(classes, strict), format_checker=FORMAT_CHECKER
    )


def is_valid(classes: tuple[str, ...], strict: bool, instance: dict) -> bool:
    """Check ``instance`` with jsonschema-rs, or python-jsonschema for values that
    jsonschema-rs cannot convert (str subclasses, integers beyond 64 bits)."""
    try:
        return fast_validator(classes, strict).is_valid(instance)
    except (ValueError, OverflowError):
        return slow_validator(classes, strict).is_valid(instance)


def iter_errors(
    classes: tuple[str, ...], strict: bool, instance: dict
) -> list[ValidationError]:
    """Return every python-jsonschema error for ``instance``, in path order.

    jsonschema-rs first names the failing top-level properties, and python-jsonschema
    then checks only those. In draft 7 without ``dependencies`` (which the data
    model does not use), the errors under a property depend only on its value, and
    errors at the root only on which keys are present. So both results are
    cached, and an invalid value repeated across many entities is explained once.
    """
    try:
        root_failed, names = _failing_parts(classes, strict, instance)
        errors = (
            list(_root_errors(classes, strict, frozenset(instance)))
            if root_failed
            else []
        )
        for name in names:
            errors.extend(
                _property_errors(classes, strict, name, _freeze(instance[name]))
            )
    except (ValueError, OverflowError, TypeError):
        # A value that jsonschema-rs cannot convert, or one that cannot be hashed.
        errors = []
    if not errors:
        errors = list(slow_validator(classes, strict).iter_errors(instance))
    return sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message))


def _failing_parts(
    classes: tuple[str, ...], strict: bool, instance: dict
) -> tuple[bool, list[str]]:
    """Return whether the root fails and which top-level properties fail."""
    root_failed = False
    names: dict[str, None] = {}
    for err in fast_validator(classes, strict).iter_errors(instance):
        path = err.instance_path
        if path:
            names[path[0]] = None
        else:
            root_failed = True
    return root_failed, list(names)


@lru_cache(maxsize=4096)
def _root_errors(
    classes: tuple[str, ...], strict: bool, keys: frozenset[str]
) -> tuple[ValidationError, ...]:
    instance = dict.fromkeys(sorted(keys))
    errors = slow_validator(classes, strict).iter_errors(instance)
    return tuple(e for e in errors if not e.absolute_path)


@lru_cache(maxsize=65536)
def _property_errors(
    classes: tuple[str, ...], strict: bool, name: str, frozen: tuple
) -> tuple[ValidationError, ...]:
    instance = {name: _thaw(frozen)}
    errors = slow_validator(classes, strict).iter_errors(instance)
    return tuple(e for e in errors if e.absolute_path)


def _freeze(value: Any) -> tuple:
    """Return a hashable form of a property value that keeps ``1`` and ``True`` apart."""
    if isinstance(value, list):
        return (list, tuple(_freeze(item) for item in value))
    return (type(value), value)


def _thaw(frozen: tuple) -> Any:
    kind, value = frozen
    return [_thaw(item) for item in value] if kind is list else value


@cache
def definition_owners(classes: tuple[str, ...], strict: bool) -> dict[int, str]:
    """Map ``id()`` of every subschema to the name of the definition that contains it.

    python-jsonschema reports the subschema object that failed, and this map
    finds the data-model class that defines the failed constraint.
    """
    owners: dict[int, str] = {}
    definitions = schema_for(classes, strict)["definitions"]
    for name, definition in definitions.items():
        for node in _walk(definition):
            owners[id(node)] = name
    return owners


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
