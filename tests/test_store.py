"""The SQLite store: J1's DIFF synchronization, ids, versions and cascades."""

from __future__ import annotations

import sqlite3

import pytest

from j1gitops.store.sqlite import Store, SyncDataError, entity_id


def ent(key, **properties):
    return {"_key": key, "_type": "acme_thing", "_class": "Resource", **properties}


def rel(key, from_key, to_key, **extra):
    return {
        "_key": key,
        "_type": "acme_thing_has_thing",
        "_class": "HAS",
        "_fromEntityKey": from_key,
        "_toEntityKey": to_key,
        **extra,
    }


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "state.db") as opened:
        yield opened


def test_create_sets_metadata(store):
    counts = store.synchronize("s", [ent("thing-0001", name="a")], [], timestamp=1000)
    assert counts.numEntitiesCreated == 1
    (obj,), _ = store.read_scope("s")
    assert obj["_id"] == entity_id("s", "thing-0001")
    assert obj["_source"] == "api"
    assert obj["_scope"] == "s"
    assert obj["_version"] == 1
    assert obj["_createdOn"] == 1000
    assert obj["_beginOn"] == 1000
    assert obj["name"] == "a"


def test_unchanged_upload_keeps_version(store):
    store.synchronize("s", [ent("thing-0001", name="a")], [], timestamp=1000)
    counts = store.synchronize("s", [ent("thing-0001", name="a")], [], timestamp=2000)
    assert counts.numEntitiesUpdated == 0
    (obj,), _ = store.read_scope("s")
    assert (obj["_version"], obj["_beginOn"]) == (1, 1000)


def test_update_replaces_properties(store):
    store.synchronize("s", [ent("thing-0001", name="a", extra=1)], [], timestamp=1000)
    counts = store.synchronize("s", [ent("thing-0001", name="b")], [], timestamp=2000)
    assert counts.numEntitiesUpdated == 1
    (obj,), _ = store.read_scope("s")
    assert "extra" not in obj
    assert (obj["name"], obj["_version"], obj["_beginOn"], obj["_createdOn"]) == (
        "b",
        2,
        2000,
        1000,
    )


def test_diff_deletes_missing_and_cascades(store):
    store.synchronize(
        "s",
        [ent("thing-0001"), ent("thing-0002")],
        [rel("r1", "thing-0001", "thing-0002")],
    )
    counts = store.synchronize("s", [ent("thing-0001")], [])
    assert counts.numEntitiesDeleted == 1
    assert counts.numRelationshipsDeleted == 1
    assert store.count("s") == (1, 0)


def test_delete_cascades_into_other_scopes(store):
    store.synchronize("a", [ent("thing-0001")], [])
    store.synchronize(
        "b",
        [ent("thing-0002")],
        [
            rel(
                "r1",
                "thing-0002",
                "thing-0001",
                _toEntitySource="api",
                _toEntityScope="a",
            )
        ],
    )
    assert store.count("b") == (1, 1)
    store.synchronize("a", [], [])
    assert store.count("b") == (1, 0)


def test_scopes_are_separate(store):
    store.synchronize("a", [ent("thing-0001", name="a")], [])
    store.synchronize("b", [ent("thing-0001", name="b")], [])
    store.synchronize("a", [], [])
    (obj,), _ = store.read_scope("b")
    assert obj["name"] == "b"
    assert obj["_id"] != entity_id("a", "thing-0001")


def test_missing_end_counted_not_created(store):
    counts = store.synchronize(
        "s", [ent("thing-0001")], [rel("r1", "thing-0001", "nope")]
    )
    assert counts.numRelationshipCreateErrors == 1
    assert counts.relationship_errors == [("r1", "the to entity was not found")]
    assert store.count("s") == (1, 0)


def test_relationship_by_id(store):
    store.synchronize("a", [ent("thing-0001")], [])
    target = entity_id("a", "thing-0001")
    relationship = {
        "_key": "r1",
        "_type": "t",
        "_class": "HAS",
        "_fromEntityKey": "thing-0002",
        "_toEntityId": target,
    }
    counts = store.synchronize("b", [ent("thing-0002")], [relationship])
    assert counts.numRelationshipsCreated == 1
    _, (obj,) = store.read_scope("b")
    assert obj["_toEntityId"] == target
    assert obj["_toEntityKey"] == "thing-0001"
    assert obj["_toEntityScope"] == "a"


def test_duplicate_key_rejected_and_nothing_written(store):
    with pytest.raises(SyncDataError, match="duplicate entity _key 'thing-0001'"):
        store.synchronize("s", [ent("thing-0001"), ent("thing-0001")], [])
    assert store.count("s") == (0, 0)


def test_ignore_duplicates_last_wins(store):
    store.synchronize(
        "s",
        [ent("thing-0001", n=1), ent("thing-0001", n=2)],
        [],
        ignore_duplicates=True,
    )
    (obj,), _ = store.read_scope("s")
    assert obj["n"] == 2


def test_failed_sync_rolls_back(store):
    store.synchronize("s", [ent("thing-0001")], [])
    with pytest.raises(SyncDataError):
        store.synchronize("s", [ent("thing-0002")], [{"_key": "r", "_class": "HAS"}])
    entities, _ = store.read_scope("s")
    assert [e["_key"] for e in entities] == ["thing-0001"]


def test_deleted_entity_comes_back_with_same_id(store):
    store.synchronize("s", [ent("thing-0001")], [])
    store.synchronize("s", [], [])
    counts = store.synchronize("s", [ent("thing-0001")], [])
    assert counts.numEntitiesCreated == 1
    (obj,), _ = store.read_scope("s")
    assert obj["_id"] == entity_id("s", "thing-0001")


def test_store_from_newer_version_rejected(tmp_path):
    path = tmp_path / "state.db"
    Store(path).close()
    connection = sqlite3.connect(path)
    connection.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    connection.commit()
    connection.close()
    with pytest.raises(Exception, match="newer j1gitops"):
        Store(path)


def test_corrupt_file_rejected(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(Exception, match="cannot open the local store"):
        Store(path)


def test_read_only_store_never_writes(tmp_path):
    path = tmp_path / "state.db"
    with Store(path) as writable:
        writable.synchronize("s", [ent("thing-0001")], [])
    before = path.read_bytes()
    with Store(path, read_only=True) as readable:
        entities, _ = readable.read_scope("s")
        with pytest.raises(sqlite3.OperationalError):
            readable.synchronize("s", [], [])
    assert [e["_key"] for e in entities] == ["thing-0001"]
    assert path.read_bytes() == before


def test_foreign_sqlite_file_rejected_unchanged(tmp_path):
    path = tmp_path / "other-app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    for read_only in (True, False):
        with pytest.raises(Exception, match="is not a j1gitops local store"):
            Store(path, read_only=read_only)
    assert path.read_bytes() == before
