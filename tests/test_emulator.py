"""The J1 API emulator: its J1QL subset, its GraphQL layer, its sync API, its faults.

Everything runs over HTTP on 127.0.0.1 against a real SQLite file, except the
parser tests, which call the parsers directly.
"""

from __future__ import annotations

import gzip
import json
import threading
import time

import emulator_fixture
import pytest
import requests

from j1gitops.commands.emulator import run_emulator
from j1gitops.emulator.faults import FaultInjector, FaultSpecError, parse_fault
from j1gitops.emulator.graphql.parser import GraphQLSyntaxError, parse_document
from j1gitops.emulator.j1ql import J1QLSyntaxError, parse
from j1gitops.emulator.j1ql.ast import Comparison, Literal, ValueSet, Variable
from j1gitops.emulator.j1ql.compare import compare
from j1gitops.emulator.j1ql.lexer import tokenize
from j1gitops.errors import CredentialsError, UsageError

j1_emulator = emulator_fixture.j1_emulator
j1_emulator_factory = emulator_fixture.j1_emulator_factory

JOBS = "/persister/synchronization/jobs"
QUERY = """
query Q($query: String!, $variables: JSON, $cursor: String,
        $deferredResponse: DeferredResponseOption, $includeDeleted: Boolean) {
  queryV1(query: $query, variables: $variables, cursor: $cursor,
          deferredResponse: $deferredResponse, includeDeleted: $includeDeleted) {
    type data cursor url totalCount __typename
  }
}
"""


def headers(handle, account_header="JupiterOne-Account"):
    return {
        "Authorization": f"Bearer {handle.api_key}",
        account_header: handle.account_id,
    }


def graphql(handle, query, variables=None, path="/graphql", **extra):
    body = {"query": query, "variables": variables or {}, **extra}
    return requests.post(
        handle.url + path, json=body, headers=headers(handle), timeout=10
    )


def j1ql(handle, text, **arguments):
    reply = graphql(handle, QUERY, {"query": text, **arguments})
    assert reply.status_code == 200, reply.text
    return reply.json()


def rows(handle, text, variables=None):
    """Follow cursors to the end and return every row."""
    result, cursor = [], None
    while True:
        page = j1ql(handle, text, variables=variables or {}, cursor=cursor)["data"][
            "queryV1"
        ]
        result.extend(page["data"])
        cursor = page["cursor"]
        if not cursor:
            return result


def sync(handle, method, path, body=None, **kwargs):
    return requests.request(
        method,
        handle.url + path,
        json=body,
        headers=headers(handle),
        timeout=10,
        **kwargs,
    )


def run_job(handle, scope, entities, relationships=(), query=""):
    job = sync(
        handle, "POST", f"{JOBS}{query}", {"source": "api", "scope": scope}
    ).json()
    job_id = job["job"]["id"]
    if entities:
        sync(handle, "POST", f"{JOBS}/{job_id}/entities", {"entities": list(entities)})
    if relationships:
        body = {"relationships": list(relationships)}
        sync(handle, "POST", f"{JOBS}/{job_id}/relationships", body)
    sync(handle, "POST", f"{JOBS}/{job_id}/finalize", {})
    return wait_for_job(handle, job_id)


def wait_for_job(handle, job_id):
    for _ in range(200):
        job = sync(handle, "GET", f"{JOBS}/{job_id}").json()["job"]
        if job["done"]:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def entity(key, type_="thing", class_="Thing", **properties):
    return {"_key": key, "_type": type_, "_class": class_, **properties}


def relationship(key, from_key, to_key, verb="HAS", **properties):
    return {
        "_key": key,
        "_type": f"thing_{verb.lower()}_thing",
        "_class": verb,
        "_fromEntityKey": from_key,
        "_toEntityKey": to_key,
        **properties,
    }


@pytest.fixture
def graph(j1_emulator):
    """A scope with people, devices and one relationship verb per direction."""
    entities = [
        entity("alice", "person", "Person", name="Alice", age=31, tags=["a", "b"]),
        entity("bob", "person", "Person", name="Bob", age=45),
        entity("laptop-1", "device", "Device", name="Laptop", encrypted=True),
        entity("phone-1", "device", "Device", name="Phone", encrypted=False),
        entity("quote'key", "thing", "Thing", name='He said "hi"'),
    ]
    relationships = [
        relationship("alice-laptop", "alice", "laptop-1", "OWNS", since=2020),
        relationship("bob-phone", "bob", "phone-1", "OWNS", since=2022),
        relationship("alice-bob", "alice", "bob", "MANAGES"),
    ]
    job = run_job(j1_emulator, "people", entities, relationships)
    assert job["status"] == "FINISHED"
    return j1_emulator


# The J1QL tokenizer and parser


def test_tokenizer_string_escapes():
    tokens = tokenize(r"""FIND * WITH a = 'it\'s' AND b = "say \"hi\"" AND c = '\\'""")
    strings = [token.value for token in tokens if token.kind == "string"]
    assert strings == ["it's", 'say "hi"', "\\"]


def test_tokenizer_other_quote_inside_string():
    tokens = tokenize("""FIND * WITH a = "it's" AND b = 'say "hi"'""")
    assert [t.value for t in tokens if t.kind == "string"] == ["it's", 'say "hi"']


def test_tokenizer_comments_variables_brackets_regex():
    tokens = tokenize(
        "FIND /* all */ * WITH [tag.special-name] = ${ v } AND n = /ja.es/i"
    )
    kinds = [(token.kind, token.value) for token in tokens]
    assert ("field", "tag.special-name") in kinds
    assert ("variable", "v") in kinds
    assert ("regex", "ja.es/i") in kinds
    assert ("name", "all") not in kinds


def test_tokenizer_unterminated_string_position():
    with pytest.raises(J1QLSyntaxError, match="unterminated string at character 17"):
        tokenize("FIND * WITH a = 'open")


def test_parser_full_query():
    query = parse(
        "find unique Person with age >= 30 and name != undefined as p "
        "that !OWNS >> as o (Device|aws_instance) with encrypted = true as d "
        "where p.name = d.owner return p.name as who, d.* order by p.age desc "
        "skip 5 limit 10"
    )
    assert query.unique
    assert query.start.classes == ["Person"]
    assert query.start.alias == "p"
    traversal = query.traversals[0]
    assert traversal.negated
    assert traversal.direction == "out"
    assert traversal.verbs == ["OWNS"]
    assert traversal.step.classes == ["Device"]
    assert traversal.step.types == ["aws_instance"]
    assert [item.key for item in query.returns] == ["who", "d.*"]
    assert query.order_by[0][1] is True
    assert (query.skip, query.limit) == (5, 10)


def test_parser_relates_to_matches_any_verb():
    query = parse("FIND * AS a THAT RELATES TO AS r * AS b RETURN r.*")
    assert query.traversals[0].verbs == []
    assert query.traversals[0].alias == "r"


def test_parser_value_sets_and_variables():
    query = parse("FIND * WITH _key = (${k0} OR ${k1}) AND _class = ('A' AND 'B')")
    first, second = query.start.filters.operands
    assert isinstance(first, Comparison)
    assert first.value == ValueSet((Variable("k0"), Variable("k1")), any_of=True)
    assert second.value == ValueSet((Literal("A"), Literal("B")), any_of=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FIND Person RETURN COUNT(Person)", "aggregate functions are not supported"),
        ("FIND Person (THAT HAS Device)?", "optional traversals"),
        ("'127.0.0.1'", "full-text search is not supported"),
        ("FIND Person WITH name = bob", "quote strings"),
        ("FIND Person WITH name = ('a' OR 'b' AND 'c')", "mixes AND and OR"),
        ("FIND Person LIMIT many", "expected a whole number after LIMIT"),
        ("FIND", "expected an entity class, type or *"),
    ],
)
def test_parser_rejects_with_message(text, message):
    with pytest.raises(J1QLSyntaxError, match=message):
        parse(text)


# Comparison semantics, from the truth table in J1's J1QL reference

F_AND_N = ValueSet(("f", "n"), any_of=False)
F_OR_N = ValueSet(("f", "n"), any_of=True)


@pytest.mark.parametrize(
    ("stored", "results"),
    [
        ("f", [True, False, True, False, True, False]),
        (["f", "n"], [True, True, True, False, False, False]),
        (["x", "y"], [False, False, False, True, True, True]),
        (None, [False, False, False, True, True, True]),
    ],
)
def test_compare_truth_table(stored, results):
    cases = [("=", "f"), ("=", F_AND_N), ("=", F_OR_N), ("!=", "f"), ("!=", F_AND_N)]
    cases.append(("!=", F_OR_N))
    assert [compare(stored, op, value) for op, value in cases] == results


def test_compare_undefined_and_types():
    assert compare(None, "=", None)
    assert not compare("x", "=", None)
    assert compare("x", "!=", None)
    assert not compare(True, "=", 1)
    assert compare(2, "=", 2.0)
    assert compare("abc", "^=", "ab")
    assert compare(["xyz", "abc"], "$=", "bc")
    assert compare(None, "!~=", "a")
    assert not compare("10", ">", 5)


# J1QL over HTTP


def test_query_class_versus_type(graph):
    by_class = rows(graph, "FIND Person")
    by_type = rows(graph, "FIND person")
    assert sorted(r["entity"]["_key"] for r in by_class) == ["alice", "bob"]
    assert sorted(r["entity"]["_key"] for r in by_type) == ["alice", "bob"]
    assert rows(graph, "FIND person_not_there") == []


def test_query_list_row_shape(graph):
    (row,) = rows(graph, "FIND * WITH _key = 'alice'")
    assert row["id"] != row["entity"]["_id"]
    assert row["entity"]["_type"] == ["person"]
    assert row["entity"]["_class"] == ["Person"]
    assert row["entity"]["_scope"] == "people"
    assert row["entity"]["_source"] == "api"
    assert row["entity"]["_accountId"] == graph.account_id
    assert row["properties"] == {"name": "Alice", "age": 31, "tags": ["a", "b"]}


def test_query_filters(graph):
    def keys(text, variables=None):
        return sorted(r["entity"]["_key"] for r in rows(graph, text, variables))

    assert keys("FIND * WITH age > 40") == ["bob"]
    assert keys("FIND * WITH tags = 'b'") == ["alice"]
    assert keys("FIND Device WITH encrypted = true") == ["laptop-1"]
    assert keys("FIND Device WITH encrypted != true") == ["phone-1"]
    assert keys("FIND * WITH name = /^al/i") == ["alice"]
    assert keys("FIND * WITH name ~= 'ho' OR age < 35") == ["alice", "phone-1"]
    assert keys("FIND * WITH age = undefined AND _class = 'Device'") == [
        "laptop-1",
        "phone-1",
    ]
    assert keys("FIND * WITH _key = ${k}", {"k": "quote'key"}) == ["quote'key"]
    assert keys("""FIND * WITH _key = 'quote\\'key'""") == ["quote'key"]
    assert keys("""FIND * WITH name = 'He said "hi"'""") == ["quote'key"]


def test_query_traversal_directions(graph):
    def table(text):
        return rows(graph, text)

    out = table("FIND Person AS p THAT OWNS >> AS r Device AS d RETURN p._key, d._key")
    assert sorted((r["p._key"], r["d._key"]) for r in out) == [
        ("alice", "laptop-1"),
        ("bob", "phone-1"),
    ]
    assert table("FIND Person AS p THAT OWNS << Device AS d RETURN p._key") == []
    both = table("FIND Device AS d THAT OWNS Person AS p RETURN d._key, p._key")
    assert len(both) == 2
    managed = table("FIND Person AS a THAT MANAGES << Person AS b RETURN a._key")
    assert managed == [{"a._key": "bob"}]


def test_query_negated_traversal(graph):
    lonely = rows(graph, "FIND * THAT !RELATES TO *")
    assert [r["entity"]["_key"] for r in lonely] == ["quote'key"]


def test_query_where_on_relationship(graph):
    found = rows(
        graph,
        "FIND Person AS p THAT OWNS AS r Device AS d WHERE r.since > 2021 "
        "RETURN p._key, r._class, r.since",
    )
    assert found == [{"p._key": "bob", "r._class": "OWNS", "r.since": 2022}]


def test_query_return_star_and_unique(graph):
    (row,) = rows(
        graph, "FIND Person WITH _key = 'alice' AS p THAT OWNS AS r * RETURN r.*"
    )
    assert row["r._key"] == "alice-laptop"
    assert row["r._fromEntityId"] != row["r._toEntityId"]
    assert row["r.since"] == 2020
    unique = rows(graph, "FIND UNIQUE Person AS p THAT RELATES TO * RETURN p._class")
    assert unique == [{"p._class": ["Person"]}]


def test_query_tree(graph):
    page = j1ql(graph, "FIND Person AS p THAT OWNS Device RETURN TREE")
    data = page["data"]["queryV1"]
    assert data["type"] == "tree"
    assert data["cursor"] is None
    assert len(data["data"]["vertices"]) == 4
    assert len(data["data"]["edges"]) == 2
    vertex_ids = {vertex["id"] for vertex in data["data"]["vertices"]}
    assert all(edge["fromVertexId"] in vertex_ids for edge in data["data"]["edges"])


def test_query_limit_skip_and_order(graph):
    ordered = rows(graph, "FIND Person AS p ORDER BY p.age DESC")
    assert [r["entity"]["_key"] for r in ordered] == ["bob", "alice"]
    limited = rows(graph, "FIND * AS e ORDER BY e._key LIMIT 2")
    assert [r["entity"]["_key"] for r in limited] == ["alice", "bob"]
    skipped = rows(graph, "FIND * AS e ORDER BY e._key SKIP 4 LIMIT 250")
    assert [r["entity"]["_key"] for r in skipped] == ["quote'key"]


def test_query_errors_are_http_200(graph):
    reply = graph_reply = j1ql(graph, "FIND Person AS p RETURN q.name")
    assert reply["data"] == {"queryV1": None}
    (error,) = graph_reply["errors"]
    assert "the selector 'q' is not defined" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["queryV1"]
    missing = j1ql(graph, "FIND * WITH _key = ${nope}")
    assert "the variable ${nope} has no value" in missing["errors"][0]["message"]


def test_query_include_deleted(graph):
    run_job(graph, "people", [entity("alice", "person", "Person")])
    assert len(rows(graph, "FIND Person")) == 1
    page = j1ql(graph, "FIND Person", includeDeleted=True)["data"]["queryV1"]
    deleted = [r for r in page["data"] if r["entity"]["_deleted"]]
    assert [r["entity"]["_key"] for r in deleted] == ["bob"]


# Pagination and deferred results


def test_cursor_pages(j1_emulator_factory):
    handle = j1_emulator_factory(page_size=3)
    run_job(handle, "s", [entity(f"e{i:02d}") for i in range(10)])
    first = j1ql(handle, "FIND Thing")["data"]["queryV1"]
    assert len(first["data"]) == 3
    assert first["totalCount"] == 10
    assert first["cursor"]
    assert len(rows(handle, "FIND Thing")) == 10
    stale = j1ql(handle, "FIND Thing", cursor=first["cursor"])
    assert stale["data"]["queryV1"]["cursor"]
    reused = j1ql(handle, "FIND Thing", cursor=first["cursor"])
    assert "invalid or has expired" in reused["errors"][0]["message"]


def test_variable_pages_include_empty_ones(j1_emulator_factory):
    handle = j1_emulator_factory(page_size=4, variable_pages=True, seed=3)
    run_job(handle, "s", [entity(f"e{i:02d}") for i in range(25)])
    sizes, cursor = [], None
    while True:
        page = j1ql(handle, "FIND Thing", cursor=cursor)["data"]["queryV1"]
        sizes.append(len(page["data"]))
        cursor = page["cursor"]
        if not cursor:
            break
    assert sum(sizes) == 25
    assert 0 in sizes[:-1]


def test_deferred_force(j1_emulator_factory):
    handle = j1_emulator_factory(page_size=2, deferred_polls=2)
    run_job(handle, "s", [entity(f"e{i}") for i in range(3)])
    reply = j1ql(handle, "FIND Thing", deferredResponse="FORCE")["data"]["queryV1"]
    assert reply["type"] == "deferred"
    assert reply["url"].startswith(handle.url + "/deferred/")
    states = [requests.get(reply["url"], timeout=5).json() for _ in range(3)]
    assert [state["status"] for state in states] == [
        "IN_PROGRESS",
        "IN_PROGRESS",
        "COMPLETED",
    ]
    done = states[-1]
    assert len(done["data"]) == 2
    assert done["totalCount"] == 3
    results = requests.get(done["url"], timeout=5).json()
    assert results["data"] == done["data"]
    second = j1ql(handle, "FIND Thing", deferredResponse="FORCE", cursor=done["cursor"])
    url = second["data"]["queryV1"]["url"]
    last = requests.get(url, timeout=5).json()
    last = (
        requests.get(url, timeout=5).json() if last["status"] == "IN_PROGRESS" else last
    )
    last = (
        requests.get(url, timeout=5).json() if last["status"] == "IN_PROGRESS" else last
    )
    assert len(last["data"]) == 1
    assert "cursor" not in last


def test_deferred_optional_only_when_large(j1_emulator_factory):
    handle = j1_emulator_factory(defer_over=3)
    run_job(handle, "s", [entity(f"e{i}") for i in range(3)])
    small = j1ql(handle, "FIND Thing", deferredResponse="OPTIONAL")["data"]["queryV1"]
    assert small["type"] == "list"
    run_job(handle, "s", [entity(f"e{i}") for i in range(4)])
    large = j1ql(handle, "FIND Thing", deferredResponse="OPTIONAL")["data"]["queryV1"]
    assert large["type"] == "deferred"


# GraphQL layer


def test_graphql_parser_forms():
    document = parse_document(
        '''
        query Named($a: [String!]! = ["x"], $b: Int) @cached {
          first: queryV1(query: """
            FIND *
          """, flags: {variableResultSize: true}) { ...Parts }
        }
        fragment Parts on QueryV1Response { type ... on QueryV1Response { data } }
        '''
    )
    (operation,) = document.operations
    assert operation.variables[0].type == "[String!]!"
    assert operation.variables[0].default == ["x"]
    field = operation.selections[0]
    assert field.alias == "first"
    assert field.arguments["query"] == "FIND *"
    assert field.arguments["flags"] == {"variableResultSize": True}
    assert "Parts" in document.fragments


def test_graphql_syntax_error_location():
    with pytest.raises(GraphQLSyntaxError, match="found .}. at line 3, column 1"):
        parse_document("query {\n  queryV1(\n}")


def test_graphql_parse_error_reply(j1_emulator):
    reply = graphql(j1_emulator, "query { queryV1(")
    assert reply.status_code == 200
    body = reply.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_graphql_unknown_field_changes_nothing(j1_emulator):
    mutation = (
        'mutation { createEntity(entityKey: "k-123456789", entityType: "t", '
        'entityClass: ["Thing"]) { entity { _id nope } } }'
    )
    body = graphql(j1_emulator, mutation).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert 'Cannot query field "nope"' in body["errors"][0]["message"]
    with j1_emulator.store() as store:
        assert store.count() == (0, 0)


def test_graphql_at_root_path_with_flags_and_typename(j1_emulator):
    reply = graphql(
        j1_emulator,
        "query($query: String!) { __typename queryV1(query: $query) { type } }",
        {"query": "FIND *", "flags": {"variableResultSize": True}},
        path="/",
        flags={"variableResultSize": True},
    )
    assert reply.json() == {
        "data": {"__typename": "Query", "queryV1": {"type": "list"}}
    }


def test_graphql_required_variable(j1_emulator):
    body = graphql(j1_emulator, QUERY, {}).json()
    assert (
        'Variable "$query" of required type "String!" was not provided.'
        in (body["errors"][0]["message"])
    )


def test_graphql_batched_array_with_lifeomic_header(j1_emulator):
    operations = [
        {"query": QUERY, "variables": {"query": "FIND *"}},
        {"query": 'query { queryV1(query: "FIND * WITH x = ") { type } }'},
    ]
    reply = requests.post(
        j1_emulator.url + "/graphql",
        json=operations,
        headers=headers(j1_emulator, "LifeOmic-Account"),
        timeout=10,
    )
    assert reply.status_code == 200
    first, second = reply.json()
    assert first["data"]["queryV1"]["type"] == "list"
    assert second["errors"][0]["path"] == ["queryV1"]


def test_mutations_round_trip(j1_emulator):
    create = """mutation C($k: String!, $p: JSON) {
      createEntity(entityKey: $k, entityType: "thing", entityClass: ["Thing"],
                   properties: $p) { entity { _id _key } vertex { id entity { _id } } }
    }"""
    first = graphql(j1_emulator, create, {"k": "one-123456", "p": {"a": 1}}).json()
    entity_id = first["data"]["createEntity"]["entity"]["_id"]
    assert first["data"]["createEntity"]["vertex"]["entity"]["_id"] == entity_id
    again = graphql(j1_emulator, create, {"k": "one-123456", "p": {"b": 2}}).json()
    assert again["data"]["createEntity"]["entity"]["_id"] == entity_id
    second = graphql(j1_emulator, create, {"k": "two-123456"}).json()
    other_id = second["data"]["createEntity"]["entity"]["_id"]
    relate = """mutation R($f: String!, $t: String!) {
      createRelationship(relationshipKey: "one-two", relationshipType: "thing_has_thing",
        relationshipClass: "HAS", fromEntityId: $f, toEntityId: $t, properties: {w: 1})
      { relationship { _id } edge { id fromVertexId toVertexId properties } }
    }"""
    edge = graphql(j1_emulator, relate, {"f": entity_id, "t": other_id}).json()
    relationship_id = edge["data"]["createRelationship"]["relationship"]["_id"]
    assert edge["data"]["createRelationship"]["edge"]["properties"] == {"w": 1}
    with j1_emulator.store() as store:
        stored = store.find_entities_by_id([entity_id])[entity_id]
        assert (stored["a"], stored["b"], stored["_source"]) == (1, 2, "api")
        assert store.count() == (2, 1)
    delete = "mutation D($id: String!) { deleteEntityV2(entityId: $id, hardDelete: true) { entity } }"
    gone = graphql(j1_emulator, delete, {"id": entity_id}).json()
    assert gone["data"]["deleteEntityV2"]["entity"]["_id"] == entity_id
    with j1_emulator.store() as store:
        assert store.count() == (1, 0)
        assert store.find_relationship_by_id(relationship_id) is None


def test_mutation_not_found(j1_emulator):
    update = 'mutation { updateEntity(entityId: "missing-12345", properties: {a: 1}) { entity { _id } } }'
    body = graphql(j1_emulator, update).json()
    assert body["data"] == {"updateEntity": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "Entity not found: missing-12345" in body["errors"][0]["message"]


# Authentication


@pytest.mark.parametrize(
    "bad_headers",
    [
        {},
        {"Authorization": "Bearer wrong-key", "JupiterOne-Account": "x"},
        {"Authorization": "Bearer KEY"},
        {"Authorization": "Bearer KEY", "JupiterOne-Account": "other-account"},
    ],
)
def test_unauthorized(j1_emulator, bad_headers):
    sent = {
        name: value.replace("KEY", j1_emulator.api_key)
        for name, value in bad_headers.items()
    }
    for path in ("/graphql", JOBS):
        reply = requests.post(j1_emulator.url + path, json={}, headers=sent, timeout=5)
        assert reply.status_code == 401
        assert j1_emulator.api_key not in reply.text


def test_account_header_is_case_insensitive(j1_emulator):
    sent = {
        "authorization": f"Bearer {j1_emulator.api_key}",
        "jupiterone-account": j1_emulator.account_id,
    }
    reply = requests.post(
        j1_emulator.url + "/graphql",
        json={"query": QUERY, "variables": {"query": "FIND *"}},
        headers=sent,
        timeout=5,
    )
    assert reply.status_code == 200


# Sync API


def test_sync_job_lifecycle(j1_emulator):
    body = {"source": "api", "scope": "s", "syncMode": "DIFF"}
    job = sync(j1_emulator, "POST", JOBS, body).json()["job"]
    assert job["status"] == "AWAITING_UPLOADS"
    assert job["numEntitiesUploaded"] == 0

    path = f"{JOBS}/{job['id']}"
    upload = {
        "entities": [entity("a"), entity("b")],
        "relationships": [relationship("a-b", "a", "b")],
    }
    uploaded = sync(j1_emulator, "POST", f"{path}/upload", upload).json()["job"]
    assert uploaded["numEntitiesUploaded"] == 2
    assert uploaded["numRelationshipsUploaded"] == 1

    finalized = sync(j1_emulator, "POST", f"{path}/finalize", {}).json()["job"]
    assert finalized["status"] in (
        "FINALIZE_PENDING",
        "FINALIZING_ENTITIES",
        "FINISHED",
    )
    done = wait_for_job(j1_emulator, job["id"])
    assert done["status"] == "FINISHED"
    assert done["numEntitiesCreated"] == 2
    assert done["numRelationshipsCreated"] == 1

    late = sync(j1_emulator, "POST", f"{path}/entities", {"entities": []})
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "JOB_NOT_AWAITING_UPLOADS"


def test_sync_diff_deletes_what_is_missing(j1_emulator):
    run_job(
        j1_emulator, "s", [entity("a"), entity("b")], [relationship("a-b", "a", "b")]
    )
    run_job(j1_emulator, "other", [entity("x")])
    done = run_job(j1_emulator, "s", [entity("a", name="A")])
    assert done["numEntitiesUpdated"] == 1
    assert done["numEntitiesDeleted"] == 1
    assert done["numRelationshipsDeleted"] == 1
    with j1_emulator.store() as store:
        assert store.count("s") == (1, 0)
        assert store.count("other") == (1, 0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"source": "api", "scope": "s", "syncMode": "CREATE_OR_UPDATE"},
            "INVALID_SYNC_MODE",
        ),
        ({"source": "api", "syncMode": "DIFF"}, "MISSING_SCOPE"),
        ({"source": "integration-managed", "scope": "s"}, "UNSUPPORTED_SOURCE"),
    ],
)
def test_sync_start_errors(j1_emulator, body, code):
    reply = sync(j1_emulator, "POST", JOBS, body)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == code


def test_sync_upload_errors(j1_emulator):
    job_id = sync(j1_emulator, "POST", JOBS, {"source": "api", "scope": "s"}).json()[
        "job"
    ]["id"]
    not_array = sync(j1_emulator, "POST", f"{JOBS}/{job_id}/entities", {"entities": {}})
    assert not_array.status_code == 400
    assert not_array.json() == {
        "error": {
            "code": "ENTITY_IS_NOT_ARRAY",
            "message": '"entities" should be an array',
        }
    }
    nested = sync(
        j1_emulator,
        "POST",
        f"{JOBS}/{job_id}/entities",
        {"entities": [entity("a", x={"y": 1})]},
    )
    assert nested.json()["error"]["code"] == "INVALID_PROPERTY_VALUE"
    unknown = sync(j1_emulator, "GET", f"{JOBS}/no-such-job")
    assert unknown.status_code == 404


def test_sync_duplicate_keys(j1_emulator):
    twice = [entity("a"), entity("a", name="later")]
    assert run_job(j1_emulator, "s", twice)["status"] == "ERROR_BAD_DATA"
    with j1_emulator.store() as store:
        assert store.count("s") == (0, 0)
    done = run_job(j1_emulator, "s", twice, query="?ignoreDuplicates=true")
    assert done["status"] == "FINISHED"
    with j1_emulator.store() as store:
        assert store.find_entity_by_key("api", "s", "a")["name"] == "later"


def test_sync_abort_changes_nothing(j1_emulator):
    run_job(j1_emulator, "s", [entity("a")])
    job_id = sync(j1_emulator, "POST", JOBS, {"source": "api", "scope": "s"}).json()[
        "job"
    ]["id"]
    sync(j1_emulator, "POST", f"{JOBS}/{job_id}/entities", {"entities": [entity("b")]})
    aborted = sync(
        j1_emulator, "POST", f"{JOBS}/{job_id}/abort", {"reason": "test"}
    ).json()
    assert aborted["job"]["status"] == "ABORTED"
    assert aborted["job"]["done"] is True
    with j1_emulator.store() as store:
        assert [e["_key"] for e in store.read_scope("s")[0]] == ["a"]


def test_sync_body_over_limit_is_413(j1_emulator):
    job_id = sync(j1_emulator, "POST", JOBS, {"source": "api", "scope": "s"}).json()[
        "job"
    ]["id"]
    big = {"entities": [entity(f"e{i}", blob="x" * 1000) for i in range(6400)]}
    reply = sync(j1_emulator, "POST", f"{JOBS}/{job_id}/entities", big)
    assert reply.status_code == 413
    assert "6291456 bytes" in reply.json()["message"]
    job = sync(j1_emulator, "GET", f"{JOBS}/{job_id}").json()["job"]
    assert job["numEntitiesUploaded"] == 0


def test_sync_gzip_upload(j1_emulator):
    job_id = sync(j1_emulator, "POST", JOBS, {"source": "api", "scope": "s"}).json()[
        "job"
    ]["id"]
    body = gzip.compress(json.dumps({"entities": [entity("a")]}).encode())
    reply = requests.post(
        f"{j1_emulator.url}{JOBS}/{job_id}/entities",
        data=body,
        headers={
            **headers(j1_emulator),
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
        timeout=5,
    )
    assert reply.json()["job"]["numEntitiesUploaded"] == 1


# Faults


def test_fault_spec_parsing():
    rule = parse_fault("rate-limit:nth=2+5,retry-after=3,path=/persister,method=post")
    assert (rule.nth, rule.retry_after, rule.path, rule.method) == (
        frozenset({2, 5}),
        3,
        "/persister",
        "POST",
    )
    with pytest.raises(FaultSpecError, match="unknown fault kind 'oops'"):
        parse_fault("oops")
    with pytest.raises(FaultSpecError, match="is not a number"):
        parse_fault("slow:delay=soon")
    with pytest.raises(FaultSpecError, match="has no =value"):
        parse_fault("drop:nth")


def test_fault_schedules_are_deterministic():
    def fired(spec, seed=0, count=20):
        injector = FaultInjector([parse_fault(spec)], seed)
        return [i + 1 for i in range(count) if injector.decide("POST", "/graphql")]

    assert fired("server-error:nth=2+5") == [2, 5]
    assert fired("server-error:every=7") == [7, 14]
    assert fired("server-error:every=2,times=3") == [2, 4, 6]
    assert fired("server-error:probability=0.3", seed=1) == fired(
        "server-error:probability=0.3", seed=1
    )
    assert fired("server-error:path=/persister") == []


def test_fault_kinds_over_http(j1_emulator):
    def post():
        return requests.post(
            j1_emulator.url + "/graphql",
            json={"query": QUERY, "variables": {"query": "FIND *"}},
            headers=headers(j1_emulator),
            timeout=5,
        )

    j1_emulator.set_faults("rate-limit:nth=1,retry-after=2")
    limited = post()
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    j1_emulator.set_faults("rate-limit:nth=1")
    assert "Retry-After" not in post().headers
    j1_emulator.set_faults("rate-limit-200:nth=1")
    body = post().json()
    assert "429" in body["errors"][0]["message"]
    j1_emulator.set_faults("server-error:nth=1,status=502")
    assert post().status_code == 502
    j1_emulator.set_faults("slow:nth=1,delay=0.3")
    started = time.monotonic()
    assert post().status_code == 200
    assert time.monotonic() - started >= 0.3
    j1_emulator.set_faults("drop:nth=1")
    with pytest.raises(requests.ConnectionError):
        post()
    assert post().status_code == 200


def test_fault_drop_after_still_applies(j1_emulator):
    j1_emulator.set_faults("drop-after:nth=1,path=/persister")
    with pytest.raises(requests.ConnectionError):
        sync(j1_emulator, "POST", JOBS, {"source": "api", "scope": "s"})
    assert len(j1_emulator.server.app.jobs.jobs) == 1


def test_fault_job_error(j1_emulator):
    j1_emulator.set_faults("job-error:nth=1,job-status=ERROR_BAD_DATA")
    assert run_job(j1_emulator, "s", [entity("a")])["status"] == "ERROR_BAD_DATA"
    with j1_emulator.store() as store:
        assert store.count() == (0, 0)
    assert run_job(j1_emulator, "s", [entity("a")])["status"] == "FINISHED"


def test_control_endpoint(j1_emulator_factory):
    closed = j1_emulator_factory()
    assert sync(closed, "GET", "/_emulator/stats").status_code == 404
    handle = j1_emulator_factory(control=True)
    reply = sync(
        handle,
        "POST",
        "/_emulator/faults",
        {"faults": ["server-error:nth=1,path=/graphql"]},
    )
    assert reply.json()["faults"][0]["kind"] == "server-error"
    assert graphql(handle, QUERY, {"query": "FIND *"}).status_code == 503
    stats = sync(handle, "GET", "/_emulator/stats").json()
    assert stats["POST /graphql"] == 1
    bad = sync(handle, "POST", "/_emulator/faults", {"faults": ["nope"]})
    assert bad.status_code == 400


# The command function


def test_run_emulator_in_thread(tmp_path, capsys):
    started = threading.Event()
    servers = []

    def ready(server):
        servers.append(server)
        print(f"listening on {server.url}", flush=True)
        started.set()

    environ = {"J1_API_KEY": "k" * 20, "J1_ACCOUNT_ID": "acct"}
    worker = threading.Thread(
        target=run_emulator,
        kwargs={
            "state": str(tmp_path / "e.db"),
            "ready_callback": ready,
            "environ": environ,
        },
    )
    worker.start()
    assert started.wait(10)
    reply = requests.post(
        servers[0].url + "/graphql",
        json={"query": QUERY, "variables": {"query": "FIND *"}},
        headers={"Authorization": "Bearer " + "k" * 20, "JupiterOne-Account": "acct"},
        timeout=5,
    )
    assert reply.status_code == 200
    servers[0].httpd.shutdown()
    worker.join(10)
    assert not worker.is_alive()
    assert capsys.readouterr().out == f"listening on {servers[0].url}\n"


def test_run_emulator_needs_key(tmp_path):
    with pytest.raises(CredentialsError, match="set J1_API_KEY"):
        run_emulator(state=str(tmp_path / "e.db"), environ={})


def test_run_emulator_port_in_use(tmp_path, j1_emulator):
    environ = {"J1_API_KEY": "k" * 20, "J1_ACCOUNT_ID": "acct"}
    port = j1_emulator.server.port
    with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}"):
        run_emulator(port, str(tmp_path / "e.db"), environ=environ)


def test_run_emulator_rejects_bad_fault(tmp_path):
    environ = {"J1_API_KEY": "k" * 20, "J1_ACCOUNT_ID": "acct"}
    with pytest.raises(UsageError, match="invalid --fault: unknown fault kind"):
        run_emulator(state=str(tmp_path / "e.db"), faults=["explode"], environ=environ)


def fail_if_started(server) -> None:
    raise AssertionError(f"the emulator started on {server.url}")


@pytest.mark.parametrize("port", [99999, 65536, -1])
def test_run_emulator_rejects_bad_port(tmp_path, port):
    environ = {"J1_API_KEY": "k" * 20, "J1_ACCOUNT_ID": "acct"}
    expected = f"--port {port} is not a TCP port: choose 1-65535, or 0 for a free one"
    with pytest.raises(UsageError, match=f"^{expected}$"):
        run_emulator(
            port,
            str(tmp_path / "e.db"),
            ready_callback=fail_if_started,
            environ=environ,
        )
    assert not (tmp_path / "e.db").exists()


@pytest.mark.parametrize(
    ("environ", "account", "expected"),
    [
        ({"J1_API_KEY": "sekrit\nKEY", "J1_ACCOUNT_ID": "acct"}, None, "J1_API_KEY"),
        (
            {"J1_API_KEY": "k" * 20, "J1_ACCOUNT_ID": "ac\u0100ct"},
            None,
            "J1_ACCOUNT_ID",
        ),
        ({"J1_API_KEY": "k" * 20}, "ac ct", "--account"),
    ],
)
def test_run_emulator_rejects_bad_credentials(tmp_path, environ, account, expected):
    with pytest.raises(CredentialsError, match=f"^{expected} contains ") as caught:
        run_emulator(
            state=str(tmp_path / "e.db"),
            account=account,
            ready_callback=fail_if_started,
            environ=environ,
        )
    assert "sekrit" not in str(caught.value)
