"""Validate and execute one GraphQL request against the emulator's resolvers.

Failures come back as J1 sends them: HTTP 200 with an ``errors`` array of
``{message, locations, path, extensions: {code}}``. A field whose resolver
fails is null in ``data``. A request that does not parse or validate has
``data`` null and runs no resolver, so a bad mutation changes nothing.
Variables the operation does not declare are ignored, because J1's Python
client sends a ``flags`` variable that its deferred query never declares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from j1gitops.emulator.graphql.parser import (
    Document,
    EnumValue,
    Field,
    FragmentSpread,
    GraphQLSyntaxError,
    InlineFragment,
    Operation,
    VariableRef,
    parse_document,
)
from j1gitops.emulator.graphql.schema import SCHEMA

Resolver = Callable[[dict[str, Any]], Any]


class GraphQLError(Exception):
    """A resolver's failure, reported in ``errors`` with a J1 error code."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT"):
        super().__init__(message)
        self.message = message
        self.code = code


def error_entry(message: str, code: str, path=None, field: Field | None = None) -> dict:
    entry: dict[str, Any] = {"message": message}
    if field is not None:
        entry["locations"] = [{"line": field.line, "column": field.column}]
    if path is not None:
        entry["path"] = path
    entry["extensions"] = {"code": code}
    return entry


def execute(request: dict, resolvers: dict[str, Resolver]) -> dict:
    """Run one request body ``{query, variables, operationName}``."""
    try:
        document = parse_document(str(request.get("query") or ""))
    except GraphQLSyntaxError as exc:
        return _failed(str(exc), "GRAPHQL_PARSE_FAILED")
    try:
        operation = _select_operation(document, request.get("operationName"))
        variables = _coerce_variables(operation, request.get("variables") or {})
        root = "Mutation" if operation.kind == "mutation" else "Query"
        fields = _collect(operation.selections, document, variables)
        _validate(fields, root, document, variables)
    except GraphQLError as exc:
        return _failed(exc.message, exc.code)
    return _run(fields, root, document, variables, resolvers)


def _failed(message: str, code: str) -> dict:
    return {"errors": [error_entry(message, code)], "data": None}


def _select_operation(document: Document, name: str | None) -> Operation:
    if name:
        for operation in document.operations:
            if operation.name == name:
                return operation
        raise GraphQLError(
            f'Unknown operation named "{name}".', "GRAPHQL_VALIDATION_FAILED"
        )
    if len(document.operations) > 1:
        raise GraphQLError(
            "Must provide operation name if query contains multiple operations.",
            "GRAPHQL_VALIDATION_FAILED",
        )
    return document.operations[0]


def _coerce_variables(operation: Operation, provided: dict) -> dict:
    if not isinstance(provided, dict):
        raise GraphQLError("Variables must be provided as an object.")
    values = {}
    for definition in operation.variables:
        if provided.get(definition.name) is not None:
            values[definition.name] = provided[definition.name]
        elif definition.has_default:
            values[definition.name] = _literal(definition.default, {})
        elif definition.type.endswith("!"):
            raise GraphQLError(
                f'Variable "${definition.name}" of required type "{definition.type}" '
                "was not provided."
            )
        else:
            values[definition.name] = None
    return values


def _literal(value, variables: dict):
    if isinstance(value, VariableRef):
        if value.name not in variables:
            raise GraphQLError(
                f'Variable "${value.name}" is not defined.', "GRAPHQL_VALIDATION_FAILED"
            )
        return variables[value.name]
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [_literal(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _literal(item, variables) for key, item in value.items()}
    return value


def _collect(selections: list, document: Document, variables: dict) -> list[Field]:
    """Flatten fragments and apply ``@skip``/``@include``."""
    fields: list[Field] = []
    for selection in selections:
        if not _included(selection.directives, variables):
            continue
        if isinstance(selection, Field):
            fields.append(selection)
        elif isinstance(selection, FragmentSpread):
            fragment = document.fragments.get(selection.name)
            if fragment is None:
                raise GraphQLError(
                    f'Unknown fragment "{selection.name}".', "GRAPHQL_VALIDATION_FAILED"
                )
            fields.extend(_collect(fragment.selections, document, variables))
        elif isinstance(selection, InlineFragment):
            fields.extend(_collect(selection.selections, document, variables))
    return fields


def _included(directives: list, variables: dict) -> bool:
    for name, arguments in directives:
        condition = _literal(arguments.get("if"), variables)
        if (name == "skip" and condition is True) or (
            name == "include" and condition is False
        ):
            return False
    return True


def _validate(
    fields: list[Field], type_name: str, document: Document, variables
) -> None:
    allowed = SCHEMA[type_name]
    for field in fields:
        _literal(field.arguments, variables)
        if field.name == "__typename":
            continue
        if field.name not in allowed:
            raise GraphQLError(
                f'Cannot query field "{field.name}" on type "{type_name}".',
                "GRAPHQL_VALIDATION_FAILED",
            )
        child = allowed[field.name]
        if child is not None and field.selections is None:
            raise GraphQLError(
                f'Field "{field.name}" of type "{child}" must have a selection of '
                "subfields.",
                "GRAPHQL_VALIDATION_FAILED",
            )
        if child is not None:
            _validate(
                _collect(field.selections, document, variables),
                child,
                document,
                variables,
            )


def _run(fields, root, document, variables, resolvers) -> dict:
    data: dict[str, Any] = {}
    errors: list[dict] = []
    for field in fields:
        key = field.response_key
        if field.name == "__typename":
            data[key] = root
            continue
        try:
            value = resolvers[field.name](_literal(field.arguments, variables))
        except GraphQLError as exc:
            errors.append(error_entry(exc.message, exc.code, [key], field))
            data[key] = None
            continue
        data[key] = _project(
            value, field, SCHEMA[root][field.name], document, variables
        )
    body: dict[str, Any] = {"data": data}
    if errors:
        body = {"errors": errors, "data": data}
    return body


def _project(value, field: Field, type_name: str | None, document, variables):
    """Keep the selected fields of a resolver's value, adding ``__typename``."""
    if value is None or type_name is None or field.selections is None:
        return value
    if isinstance(value, list):
        return [_project(item, field, type_name, document, variables) for item in value]
    result = {}
    for child in _collect(field.selections, document, variables):
        if child.name == "__typename":
            result[child.response_key] = value.get("__typename", type_name)
            continue
        child_type = SCHEMA[type_name][child.name]
        result[child.response_key] = _project(
            value.get(child.name), child, child_type, document, variables
        )
    return result
