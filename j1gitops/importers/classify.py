"""Suggest the data-model classes whose properties best match a table's columns.

A column matches a property by name, ignoring case, spaces, punctuation and a
trailing plural "s", or by a synonym from ``SYNONYMS``. Failing both, it matches
by the shape of its values (emails, IP or MAC addresses, URLs) a property of
that format. Properties of the class itself count more than those that every
class inherits (``name``, ``description``, ...), and covering the class's own
required properties adds to its score. Scores order the suggestions; they are
heuristics, not probabilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from j1gitops.importers import datamodel
from j1gitops.importers.profile import ColumnProfile, TableProfile
from j1gitops.validation import schemas

# Column names (normalised by ``stem``) that usually hold a given property.
SYNONYMS = {
    "serialnumber": "serial",
    "serialno": "serial",
    "sn": "serial",
    "manufacturer": "make",
    "brand": "make",
    "computername": "hostname",
    "devicename": "hostname",
    "host": "hostname",
    "os": "osName",
    "operatingsystem": "osName",
    "ip": "ipv4Addresses",
    "ipaddres": "ipv4Addresses",
    "ipv4": "ipv4Addresses",
    "ipv6": "ipv6Addresses",
    "mac": "macAddresses",
    "macaddres": "macAddresses",
    "mail": "email",
    "emailaddres": "email",
    "givenname": "firstName",
    "first": "firstName",
    "surname": "lastName",
    "familyname": "lastName",
    "last": "lastName",
    "jobtitle": "title",
    "mobile": "phone",
    "telephone": "phone",
    "login": "username",
    "upn": "username",
    "url": "webLink",
    "link": "webLink",
    "website": "webLink",
    "created": "createdOn",
    "createdat": "createdOn",
    "creationdate": "createdOn",
    "updated": "updatedOn",
    "updatedat": "updatedOn",
    "modified": "updatedOn",
    "lastseen": "lastSeenOn",
    "lastcheckin": "lastSeenOn",
    "desc": "description",
    "site": "location",
    "price": "cost",
    "cve": "cveId",
    "employeenumber": "employeeId",
    "fullname": "displayName",
}
# Value shapes and the property formats (or names) they suggest.
SHAPE_FORMATS = {
    "email": ("email",),
    "ipv4": ("ipv4", "ip"),
    "url": ("uri",),
    "mac": ("macAddresses",),
}
# Column names that usually hold the key of another entity: the class of that
# entity, the verb, and whether it points at this entity (reverse).
REFERENCE_HINTS = (
    (("owner", "ownedby", "owneremail"), "Person", "OWNS"),
    (("manager", "managedby", "manageremail"), "Person", "MANAGES"),
    (("user", "assignedto", "assignee", "usedby", "useremail"), "Person", "USES"),
    (("account", "accountid"), "Account", "HAS"),
    (("team", "group", "groupid"), "UserGroup", "HAS"),
)
KEY_HINTS = (
    "id",
    "key",
    "uuid",
    "guid",
    "serial",
    "serialnumber",
    "assettag",
    "email",
    "username",
    "hostname",
    "name",
)
OWN_WEIGHT, SHARED_WEIGHT = 1.0, 0.3
NAME, SYNONYM, SHAPE = "same name", "synonym", "value shape"


def stem(name: str) -> str:
    """Normalise a name for comparison: lower case, letters and digits only, and
    no trailing plural ``s``."""
    text = re.sub(r"[^a-z0-9]", "", name.lower())
    return text[:-1] if len(text) > 3 and text.endswith("s") else text


@dataclass
class ColumnMatch:
    column: str
    property: str
    reason: str


@dataclass
class Reference:
    """A column that looks like the key of another entity."""

    column: str
    target_class: str | None
    verb: str | None


@dataclass
class ClassScore:
    """The fit of the columns to one class, or to a set of classes that every
    entity takes (``_class: [Device, Host]``)."""

    classes: tuple[str, ...]
    score: float
    matches: list[ColumnMatch] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    nullable_missing: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The classes as messages name them: ``Device`` or ``Device, Host``."""
        return ", ".join(self.classes)


def _property_index(classes: tuple[str, ...]) -> dict[str, str]:
    return {stem(prop): prop for prop in sorted(datamodel.property_types(classes))}


def _format_index(classes: tuple[str, ...]) -> dict[str, list[str]]:
    formats: dict[str, list[str]] = {}
    for prop, form in sorted(datamodel.property_formats(classes).items()):
        formats.setdefault(form, []).append(prop)
    return formats


def match_columns(
    classes: tuple[str, ...], columns: list[ColumnProfile]
) -> list[ColumnMatch]:
    """Return the column-to-property matches for the classes, each property once."""
    by_stem = _property_index(classes)
    formats = _format_index(classes)
    used: set[str] = set()
    matches: list[ColumnMatch] = []
    for column in columns:
        key = stem(column.name)
        for prop, reason in ((by_stem.get(key), NAME), (SYNONYMS.get(key), SYNONYM)):
            if prop and prop in by_stem.values() and prop not in used:
                matches.append(ColumnMatch(column.name, prop, reason))
                used.add(prop)
                break
    # A column named like a reference (owner_email) holds another entity's key,
    # even when its values have the shape of a property (an email address).
    skipped = {m.column for m in matches}
    skipped |= {c.name for c in columns if _reference_hint(stem(c.name))}
    for column in columns:
        if column.name in skipped:
            continue
        prop = _shape_property(column, formats, by_stem, used)
        if prop:
            matches.append(ColumnMatch(column.name, prop, SHAPE))
            used.add(prop)
    return matches


def _shape_property(
    column: ColumnProfile,
    formats: dict[str, list[str]],
    by_stem: dict[str, str],
    used: set[str],
) -> str | None:
    """Return the first free property whose format or name fits the value shape."""
    for shape in sorted(column.shapes):
        for hint in SHAPE_FORMATS.get(shape, ()):
            candidates = list(formats.get(hint, []))
            if stem(hint) in by_stem:
                candidates.append(by_stem[stem(hint)])
            for prop in candidates:
                if prop not in used:
                    return prop
    return None


def score_class(classes: tuple[str, ...], columns: list[ColumnProfile]) -> ClassScore:
    """Score the columns against the classes that every entity would take.

    A property is the classes' own when any of them declares it beyond the base
    schemas. It is required when any class requires it, and may be left out
    when every class that requires it allows null.
    """
    matches = match_columns(classes, columns)
    own = frozenset().union(*(datamodel.own_properties(name) for name in classes))
    found = {m.property for m in matches}
    required = list(
        dict.fromkeys(
            p for name in classes for p in datamodel.required_properties(name)
        )
    )
    nullable = {
        p
        for p in required
        if all(
            p in datamodel.nullable_required(name)
            for name in classes
            if p in datamodel.required_properties(name)
        )
    }
    own_required = [p for p in required if p in own]
    score = sum(OWN_WEIGHT if m.property in own else SHARED_WEIGHT for m in matches)
    if own_required:
        score += 0.5 * sum(p in found for p in own_required) / len(own_required)
    return ClassScore(
        classes=classes,
        score=round(score, 2),
        matches=matches,
        missing_required=[p for p in required if p not in found and p not in nullable],
        nullable_missing=[p for p in required if p not in found and p in nullable],
    )


def rank_classes(profile: TableProfile, top: int = 5) -> list[ClassScore]:
    """Return the ``top`` classes by score, best first; ties go by name."""
    scores = [score_class((name,), profile.columns) for name in schemas.class_names()]
    scores.sort(key=lambda s: (-s.score, s.name))
    return scores[:top]


def key_candidates(profile: TableProfile) -> list[str]:
    """Return the columns filled and unique in every sampled row, likeliest first."""
    unique = [
        c.name
        for c in profile.columns
        if c.filled == profile.rows and c.unique == profile.rows and profile.rows
    ]
    return sorted(unique, key=lambda name: _key_rank(stem(name)))


def _key_rank(key: str) -> int:
    for rank, hint in enumerate(KEY_HINTS):
        if key == hint or key.endswith(hint):
            return rank
    return len(KEY_HINTS)


def references(profile: TableProfile, matches: list[ColumnMatch], key: str | None):
    """Return the columns that look like keys of other entities.

    A column named like a reference (``manager_email``) is one even when it
    also matches a property (Person's ``managerEmail``). Another column whose
    name ends in "id" is one only when it matches no property and is not the key.
    """
    mapped = {m.column for m in matches}
    found = []
    for column in profile.columns:
        if column.name == key:
            continue
        hint = _reference_hint(stem(column.name))
        if hint is not None:
            found.append(Reference(column.name, *hint))
        elif column.name not in mapped and _looks_like_id(column.name):
            found.append(Reference(column.name, None, None))
    return found


def _looks_like_id(name: str) -> bool:
    key = stem(name)
    return key.endswith("id") and len(key) > 2


def _reference_hint(key: str) -> tuple[str, str] | None:
    for names, target, verb in REFERENCE_HINTS:
        if key in names:
            return target, verb
    return None
