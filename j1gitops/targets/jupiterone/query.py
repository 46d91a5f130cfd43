"""Reading one scope back from J1 with J1QL through ``queryV1``.

J1QL forms used, each from J1's J1QL reference or API documentation:

- ``FIND * WITH _source = ${source} AND _scope = ${scope}``: a plain FIND gives
  a ``list`` result, rows ``{id, entity: {<metadata>}, properties: {...}}``
  with ``_type`` and ``_class`` as lists.
- ``... AS a THAT RELATES TO AS r * AS b WHERE r._source = ${source} AND
  r._scope = ${scope} RETURN r.*, b._id, b._key, b._source, b._scope``: a
  ``table`` result, one row per path, keyed ``r.<name>`` and ``b.<name>``.
  ``RELATES TO`` matches every relationship class in both directions. A
  relationship whose two ends are in the scope therefore comes back twice, and
  rows are de-duplicated by ``r._id``.
- ``_id = (${id0} OR ${id1})`` and ``_key = (${k0} OR ...)``: the value-list
  shorthand, for looking up external relationship ends in bulk.
- ``${name}`` placeholders, bound from the ``variables`` argument, so that no
  key or scope is ever spliced into query text. NOTE: J1 documents variables in
  a comparison; that they also work inside a ``( ... OR ... )`` list is
  unconfirmed.

Pages follow ``cursor`` until it is null or absent, the only end signal since
J1's 2024-09-01 query change (a short or empty page is not one). SKIP is never
sent. ``deferredResponse: OPTIONAL`` lets J1 defer a large result (J1's schema
has the value; that J1 defers only large results with it is unconfirmed). A
deferred reply's URL is polled until its ``status`` is no longer ``IN_PROGRESS``, and
the page is read from that state document, as J1's Python client reads it.
J1's documentation instead puts the page in a results document at the state
document's ``url``; which one J1 fills is unconfirmed, so a state document
without ``data`` is followed to its ``url``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from j1gitops.errors import ApiError, TargetError
from j1gitops.inventory.model import EntityRef
from j1gitops.targets.jupiterone.client import ApiClient

QUERY_V1 = """
query J1gitopsQuery($query: String!, $variables: JSON, $cursor: String,
                    $deferredResponse: DeferredResponseOption, $flags: QueryV1Flags) {
  queryV1(query: $query, variables: $variables, cursor: $cursor,
          deferredResponse: $deferredResponse, flags: $flags) {
    type
    data
    cursor
    url
  }
}
"""

ENTITIES_J1QL = "FIND * WITH _source = ${source} AND _scope = ${scope}"
RELATIONSHIPS_J1QL = (
    "FIND * WITH _source = ${source} AND _scope = ${scope} AS a "
    "THAT RELATES TO AS r * AS b "
    "WHERE r._source = ${source} AND r._scope = ${scope} "
    "RETURN r.*, b._id, b._key, b._source, b._scope"
)
# Values per lookup query; keeps each query's text and variables small.
LOOKUP_CHUNK = 100


class ScopeReader:
    def __init__(
        self,
        client: ApiClient,
        *,
        deferred: str = "OPTIONAL",
        poll_interval: float = 0.2,
        deferred_timeout: float = 600.0,
    ):
        self.client = client
        self.deferred = deferred
        self.poll_interval = poll_interval
        self.deferred_timeout = deferred_timeout

    def rows(self, j1ql: str, variables: dict) -> Iterator[dict]:
        """Yield every row of a J1QL query, page by page."""
        cursor = None
        seen: set[str] = set()
        while True:
            page = self._page(j1ql, variables, cursor)
            data = page.get("data") or []
            if not isinstance(data, list):
                kind = self.client.server_text(page.get("type"))
                raise ApiError(f"J1 returned a {kind} result for {j1ql!r}")
            yield from data
            cursor = page.get("cursor")
            if not cursor:
                return
            if not isinstance(cursor, str):
                raise ApiError(
                    f"J1 returned a cursor of type {type(cursor).__name__} for "
                    f"{j1ql!r} where a string was expected"
                )
            if cursor in seen:
                raise ApiError(f"J1 returned the same cursor twice for {j1ql!r}")
            seen.add(cursor)

    def _page(self, j1ql: str, variables: dict, cursor: str | None) -> dict:
        arguments = {
            "query": j1ql,
            "variables": variables,
            "cursor": cursor,
            "deferredResponse": self.deferred,
            "flags": {"variableResultSize": True},
        }
        page = self.client.graphql(QUERY_V1, arguments).get("queryV1")
        if not isinstance(page, dict):
            raise ApiError(f"J1 returned no queryV1 result for {j1ql!r}")
        if page.get("type") == "deferred":
            return self._deferred(page.get("url"), j1ql)
        return page

    def _deferred(self, url: str | None, j1ql: str) -> dict:
        if not url:
            raise ApiError(f"J1 deferred the query {j1ql!r} but sent no URL")
        deadline = time.monotonic() + self.deferred_timeout
        interval = self.poll_interval
        while True:
            state = self.client.fetch_unauthenticated(url)
            status = state.get("status")
            if status != "IN_PROGRESS":
                break
            if time.monotonic() > deadline:
                raise TargetError(
                    f"the deferred J1 query {j1ql!r} was still IN_PROGRESS after "
                    f"{self.deferred_timeout:.0f}s; run again later"
                )
            time.sleep(interval)
            interval = min(interval * 2, 2.0)
        if status == "FAILED":
            error = self.client.server_text(state.get("error"))
            raise ApiError(f"the deferred J1 query {j1ql!r} failed: {error}")
        if "data" in state:
            return state
        return self.client.fetch_unauthenticated(state.get("url"))

    # The scope

    def read_scope(
        self, scope: str, source: str = "api"
    ) -> tuple[list[dict], list[dict]]:
        """Return the scope's entities and relationships, shaped as the store's."""
        variables = {"source": source, "scope": scope}
        entities: dict[str, dict] = {}
        for row in self.rows(ENTITIES_J1QL, variables):
            entity = entity_from_row(row)
            entities.setdefault(entity["_id"], entity)
        relationships: dict[str, dict] = {}
        # NOTE: the traversal starts from the scope's entities, so a relationship
        # of the scope whose two ends both lie outside it is not read back, and
        # plans show it as a create on every run.
        for row in self.rows(RELATIONSHIPS_J1QL, variables):
            relationship = relationship_from_row(row, entities)
            relationships.setdefault(relationship["_id"], relationship)
        return (
            sorted(entities.values(), key=lambda e: e["_key"]),
            sorted(relationships.values(), key=lambda r: r["_key"]),
        )

    def find_missing(self, refs: list[EntityRef]) -> list[EntityRef]:
        """Return the refs whose entity J1 does not hold, in a few bulk queries."""
        found_ids = self._found_ids([ref.id for ref in refs if ref.id])
        by_scope: dict[tuple[str, str], list[str]] = {}
        for ref in refs:
            if ref.id is None and ref.key is not None and ref.scope is not None:
                by_scope.setdefault((ref.source or "api", ref.scope), []).append(
                    ref.key
                )
        found_keys = {
            (source, scope, key)
            for (source, scope), keys in by_scope.items()
            for key in self._found_keys(source, scope, keys)
        }
        return [ref for ref in refs if not _exists(ref, found_ids, found_keys)]

    def _found_ids(self, ids: list[str]) -> set[str]:
        found = set()
        for chunk in _chunks(sorted(set(ids)), LOOKUP_CHUNK):
            names = [f"id{index}" for index in range(len(chunk))]
            j1ql = f"FIND * WITH _id = ({_placeholders(names)}) AS e RETURN e._id"
            found.update(
                row.get("e._id")
                for row in self.rows(j1ql, dict(zip(names, chunk, strict=True)))
            )
        return found

    def _found_keys(self, source: str, scope: str, keys: list[str]) -> set[str]:
        found = set()
        for chunk in _chunks(sorted(set(keys)), LOOKUP_CHUNK):
            names = [f"key{index}" for index in range(len(chunk))]
            j1ql = (
                "FIND * WITH _source = ${source} AND _scope = ${scope} AND "
                f"_key = ({_placeholders(names)}) AS e RETURN e._key"
            )
            variables = {
                "source": source,
                "scope": scope,
                **dict(zip(names, chunk, strict=True)),
            }
            found.update(row.get("e._key") for row in self.rows(j1ql, variables))
        return found


def entity_from_row(row: dict) -> dict:
    """Turn a ``list`` row into one flat object: properties, then metadata."""
    entity = {**(row.get("properties") or {}), **(row.get("entity") or {})}
    types = entity.get("_type")
    if isinstance(types, list):
        entity["_type"] = types[0] if len(types) == 1 else types
    # NOTE: if J1 fills displayName itself when the upload has none, it shows
    # up here like a property the inventory lacks, and plans report it as drift.
    if entity.get("_deleted") is False:
        del entity["_deleted"]
    return entity


def relationship_from_row(row: dict, scope_entities: dict[str, dict]) -> dict:
    """Turn a ``table`` row into a relationship with both ends' key, source and scope."""
    relationship = {
        name[2:]: value for name, value in row.items() if name.startswith("r.")
    }
    other = {name[2:]: value for name, value in row.items() if name.startswith("b.")}
    if relationship.get("_deleted") is False:
        del relationship["_deleted"]
    for end in ("from", "to"):
        end_id = relationship.get(f"_{end}EntityId")
        entity = scope_entities.get(end_id) or (
            other if other.get("_id") == end_id else {}
        )
        relationship[f"_{end}EntityKey"] = entity.get(
            "_key", relationship.get(f"_{end}EntityKey")
        )
        relationship[f"_{end}EntitySource"] = entity.get("_source")
        relationship[f"_{end}EntityScope"] = entity.get("_scope")
    return relationship


def _exists(ref: EntityRef, found_ids: set[str], found_keys: set[tuple]) -> bool:
    if ref.id is not None:
        return ref.id in found_ids
    return (ref.source or "api", ref.scope, ref.key) in found_keys


def _placeholders(names: list[str]) -> str:
    return " OR ".join("${" + name + "}" for name in names)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
