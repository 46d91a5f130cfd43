"""The output of ``classify``: a report for the terminal and a starter mapping."""

from __future__ import annotations

from j1gitops.importers.classify import ColumnMatch, Reference
from j1gitops.importers.fields import PROPERTY_NAME, suggest_name
from j1gitops.importers.patterns import PatternError, column_or_pattern
from j1gitops.importers.starter import Suggestion
from j1gitops.inventory.writer import format_scalar

NAME_PROPERTIES = ("name", "displayName")
IDENTITY_COLUMNS = ("_key", "_type", "_class")


def render_report(suggestion: Suggestion) -> str:
    """Return the report: ranking, column by column, gaps and the key."""
    profile = suggestion.profile
    sampled = "" if profile.complete else f" (first {profile.rows} sampled)"
    lines = [
        f"{profile.path}: {len(profile.columns)} columns, {profile.rows} rows"
        f"{sampled}, read as {profile.description}",
        "",
        "Classes whose properties match the columns best:",
    ]
    for rank, score in enumerate(suggestion.ranking, start=1):
        lines.append(
            f"  {rank}. {score.name:<22} score {score.score:5.2f}  "
            f"({len(score.matches)} of {len(profile.columns)} columns match)"
        )
    lines += ["", f"Columns as properties of {suggestion.chosen.name}:"]
    lines += _column_lines(suggestion)
    lines += [""] + _gap_lines(suggestion)
    return "\n".join(lines) + "\n"


def _column_lines(suggestion: Suggestion) -> list[str]:
    matches = {match.column: match for match in suggestion.chosen.matches}
    references = {ref.column: ref for ref in suggestion.references}
    width = max(len(column.name) for column in suggestion.profile.columns)
    lines = []
    for column in suggestion.profile.columns:
        name = column.name
        note = _column_note(suggestion, matches.get(name), references.get(name), name)
        lines.append(f"  {name:<{width}}  -> {note}")
    return lines


def _column_note(
    suggestion: Suggestion, match: ColumnMatch | None, ref: Reference | None, name: str
) -> str:
    if name in IDENTITY_COLUMNS:
        return f"J1's own {name} column, imported as it is"
    if name.startswith("_"):
        return "J1 metadata, which import skips"
    other = (
        f"the key of another entity: {_reference_text(ref, suggestion)}" if ref else ""
    )
    if match is not None:
        described = f"{match.property} ({match.reason})"
        return f"{described}; also {other}" if other else described
    if other:
        return other
    return (
        f"{_custom_name(name)} (custom property; no property of "
        f"{suggestion.chosen.name} matches)"
    )


def _custom_name(column: str) -> str:
    return column if PROPERTY_NAME.fullmatch(column) else suggest_name(column)


def _reference_text(reference: Reference, suggestion: Suggestion) -> str:
    if reference.verb is None:
        return "no verb suggested; add a relationship for it in the mapping"
    return f"{reference.target_class} {reference.verb} {suggestion.chosen.name}"


def _missing(suggestion: Suggestion) -> list[str]:
    """Return the required properties that neither a column nor ``set`` gives."""
    covered = NAME_PROPERTIES if suggestion.name_pattern else ()
    return [p for p in suggestion.chosen.missing_required if p not in covered]


def _gap_lines(suggestion: Suggestion) -> list[str]:
    chosen = suggestion.chosen
    lines = []
    if _missing(suggestion):
        missing = ", ".join(_missing(suggestion))
        lines.append(f"Required by {chosen.name} and not in the file: {missing}")
    if suggestion.name_pattern:
        lines.append(
            f"name and displayName: set to {suggestion.name_pattern!r} in the mapping"
        )
    if chosen.nullable_missing:
        nullable = ", ".join(chosen.nullable_missing)
        lines.append(f"Required but nullable, so they may be left out: {nullable}")
    own = _identity_columns(suggestion)
    if "_class" in own:
        lines.append(
            "Classes: the file's _class column sets each row's classes, so those "
            "above only suggest property names"
        )
    if "_key" in own:
        lines.append("Key: the file's _key column")
    elif suggestion.key is None:
        lines.append(
            "Key: no column is filled and unique in every row; write a pattern of "
            "several columns"
        )
    else:
        lines.append(
            f"Key: column {suggestion.key!r} (filled and unique in every row sampled)"
        )
    return lines


def render_mapping(
    suggestion: Suggestion, import_command: str, records: str | None = None
) -> str:
    """Return the starter mapping file, with comments for review; ``records`` is
    the dotted path of a JSON file's records."""
    chosen = suggestion.chosen
    own = _identity_columns(suggestion)
    lines = [
        f"# Starter mapping for {suggestion.profile.path}, from 'j1gitops classify'.",
        "# Review every line, then run:",
        f"#   {import_command}",
    ]
    if "_class" in own:
        lines.append("# class: the file's _class column")
    else:
        lines.append(f"class: {_classes_text(chosen.classes)}")
    if "_type" in own:
        lines.append("# type: the file's _type column")
    else:
        lines.append(
            f"type: {format_scalar(suggestion.type)}  # J1 names types "
            "vendor_resource, such as acme_laptop"
        )
    if records:
        lines.append(f"records: {format_scalar(records)}")
    if "_key" in own:
        lines.append("# key: the file's _key column")
    elif suggestion.key_pattern and _importable(suggestion.key_pattern):
        lines.append(f"key: {format_scalar(suggestion.key_pattern)}")
    elif suggestion.key_pattern:
        lines.append(f"# key: {format_scalar(suggestion.key_pattern)}  {_UNUSABLE}")
    else:
        lines.append('# key: "{site}-{serial}"  # no unique column; write a pattern')
    lines += _property_lines(suggestion)
    lines += _set_lines(suggestion)
    lines += _relationship_lines(suggestion)
    if _missing(suggestion):
        missing = ", ".join(_missing(suggestion))
        lines.append(f"# Required by {chosen.name} and not in the file: {missing}")
    return "\n".join(lines) + "\n"


def _identity_columns(suggestion: Suggestion) -> set[str]:
    """Return the _key, _type and _class columns of a file in J1's CSV format."""
    names = {column.name for column in suggestion.profile.columns}
    return names & set(IDENTITY_COLUMNS)


def _classes_text(classes: tuple[str, ...]) -> str:
    if len(classes) == 1:
        return format_scalar(classes[0])
    return "[" + ", ".join(format_scalar(name) for name in classes) + "]"


def _property_lines(suggestion: Suggestion) -> list[str]:
    matches = {match.column: match.property for match in suggestion.chosen.matches}
    references = {ref.column for ref in suggestion.references if ref.verb}
    lines = ["properties:"]
    for column in suggestion.profile.columns:
        if column.name.startswith("_"):
            continue  # J1's own columns and metadata, which import reads itself
        name = format_scalar(column.name)
        if column.name in matches:
            lines.append(f"  {name}: {format_scalar(matches[column.name])}")
        elif column.name in references:
            lines.append(f"  {name}: null  # the key of another entity")
        else:
            custom = format_scalar(_custom_name(column.name))
            lines.append(f"  {name}: {custom}  # custom property")
    return lines


def _set_lines(suggestion: Suggestion) -> list[str]:
    if suggestion.name_pattern is None:
        return []
    found = {match.property for match in suggestion.chosen.matches}
    value = format_scalar(suggestion.name_pattern)
    wanted = [prop for prop in NAME_PROPERTIES if prop not in found]
    if not _importable(suggestion.name_pattern):
        return ["# set:"] + [f"#   {prop}: {value}  {_UNUSABLE}" for prop in wanted]
    return ["set:"] + [f"  {prop}: {value}" for prop in wanted]


# Patterns name columns inside braces, so a column whose name contains ':', '!'
# or a brace cannot appear in one. The mapping then gets the line commented out.
_UNUSABLE = "# a pattern cannot name this column; rename the column in the file"


def _importable(pattern: str) -> bool:
    """Check a pattern with the parser that ``import`` uses."""
    try:
        column_or_pattern(pattern)
    except PatternError:
        return False
    return True


def _relationship_lines(suggestion: Suggestion) -> list[str]:
    lines = []
    for ref in suggestion.references:
        column = format_scalar(ref.column)
        if ref.verb is None:
            lines.append(f"  # - column: {column}  # looks like a key; add a verb")
            continue
        lines += [
            f"  - column: {column}",
            f"    verb: {ref.verb}",
            f"    direction: reverse  # {ref.target_class} {ref.verb} "
            f"{suggestion.chosen.name}",
        ]
        key = "{" + ref.column + "}"
        if _importable(key):
            lines.append(
                f"    key: {format_scalar(key)}  # the {ref.target_class}'s _key; "
                "match how those keys are built"
            )
    return ["relationships:", *lines] if lines else []
