"""JupiterOneTarget against the emulator: read, external ends, apply, faults."""

from __future__ import annotations

import logging

import emulator_fixture
import pytest

from j1gitops.errors import CredentialsError, J1GitOpsError, TargetError, UsageError
from j1gitops.inventory.model import EntityRef
from j1gitops.normalize import canonical_classes, canonical_properties
from j1gitops.targets.base import DesiredState
from j1gitops.targets.jupiterone import JupiterOneTarget

j1_emulator = emulator_fixture.j1_emulator
j1_emulator_factory = emulator_fixture.j1_emulator_factory

SCOPE = "inventory"


def entity(key, type_="service", class_="Service", **properties):
    return {"_key": key, "_type": type_, "_class": class_, **properties}


def relationship(key, from_key, to_key, verb="USES", **properties):
    return {
        "_key": key,
        "_type": f"service_{verb.lower()}_service",
        "_class": verb,
        "_fromEntityKey": from_key,
        "_toEntityKey": to_key,
        **properties,
    }


def desired_state(count=12):
    entities = [
        entity(f"svc-{i:03d}", name=f"Service {i}", tier=i % 3, tags=["a", "b"])
        for i in range(count)
    ]
    entities.append(
        entity("db-main", "database", ["Database", "DataStore"], encrypted=True)
    )
    relationships = [
        relationship(
            f"svc-{i:03d}-uses-{i + 1:03d}", f"svc-{i:03d}", f"svc-{i + 1:03d}"
        )
        for i in range(count - 1)
    ]
    relationships.append(
        relationship("svc-000-uses-db", "svc-000", "db-main", weight=1.5)
    )
    return DesiredState(entities, relationships)


def comparable_entities(objects):
    return {
        obj["_key"]: (
            obj["_type"],
            canonical_classes(obj["_class"]),
            canonical_properties(
                {k: v for k, v in obj.items() if not k.startswith("_")}
            ),
        )
        for obj in objects
    }


def comparable_relationships(objects):
    return {
        obj["_key"]: (
            obj["_type"],
            obj["_class"],
            obj.get("_fromEntityKey"),
            obj.get("_toEntityKey"),
            canonical_properties(
                {k: v for k, v in obj.items() if not k.startswith("_")}
            ),
        )
        for obj in objects
    }


def assert_holds(target, desired):
    live = target.read(SCOPE)
    assert comparable_entities(live.entities) == comparable_entities(desired.entities)
    assert comparable_relationships(live.relationships) == comparable_relationships(
        desired.relationships
    )


def snapshot(handle):
    """Every object in the emulator's store, scope by scope, with versions."""
    with handle.store() as store:
        entities = {(e["_scope"], e["_key"]): e for e in store.all_entities(True)}
        relationships = {
            (r["_scope"], r["_key"]): r for r in store.all_relationships(True)
        }
    return entities, relationships


def outside_scope(snap):
    entities, relationships = snap
    return (
        {key: value for key, value in entities.items() if key[0] != SCOPE},
        {key: value for key, value in relationships.items() if key[0] != SCOPE},
    )


@pytest.fixture
def target(j1_emulator):
    target = j1_emulator.target()
    yield target
    target.close()


def seed_other_scope(handle):
    """Put data in another scope, which no apply to SCOPE may touch."""
    other = handle.target()
    other_state = DesiredState(
        [
            entity("okta-user-1", "okta_user", "User"),
            entity("aws-account", "aws_account", "Account"),
        ],
        [relationship("user-in-account", "okta-user-1", "aws-account", "HAS")],
    )
    assert other.apply("identity", other_state, lambda line: None).succeeded
    other.close()


# Reading and applying


def test_apply_then_read_matches(target, j1_emulator):
    desired = desired_state()
    lines = []
    result = target.apply(SCOPE, desired, lines.append)
    assert result.succeeded
    assert result.status == "FINISHED"
    assert result.job_id
    assert result.counts["numEntitiesCreated"] == 13
    assert result.counts["numRelationshipsCreated"] == 12
    assert result.errors == []
    assert lines[0].startswith("started sync job ")
    assert "uploaded 13 of 13 entities" in lines
    assert_holds(target, desired)


def test_second_apply_changes_nothing(target):
    desired = desired_state()
    target.apply(SCOPE, desired, lambda line: None)
    again = target.apply(SCOPE, desired, lambda line: None)
    assert again.succeeded
    changed = {name: value for name, value in again.counts.items() if value}
    assert changed == {"numEntitiesUploaded": 13, "numRelationshipsUploaded": 12}


def test_apply_updates_and_deletes(target, j1_emulator):
    seed_other_scope(j1_emulator)
    before = outside_scope(snapshot(j1_emulator))
    target.apply(SCOPE, desired_state(), lambda line: None)
    smaller = desired_state(5)
    smaller.entities[0]["tier"] = 9
    result = target.apply(SCOPE, smaller, lambda line: None)
    assert result.counts["numEntitiesUpdated"] == 1
    assert result.counts["numEntitiesDeleted"] == 7
    assert result.counts["numRelationshipsDeleted"] == 7
    assert_holds(target, smaller)
    assert outside_scope(snapshot(j1_emulator)) == before


def test_read_empty_scope(target):
    live = target.read("nothing-here")
    assert (live.entities, live.relationships) == ([], [])


def test_read_metadata_shape(target):
    target.apply(SCOPE, desired_state(2), lambda line: None)
    live = target.read(SCOPE)
    db = next(e for e in live.entities if e["_key"] == "db-main")
    assert db["_type"] == "database"
    assert sorted(db["_class"]) == ["DataStore", "Database"]
    assert (db["_source"], db["_scope"]) == ("api", SCOPE)
    assert db["_id"]
    edge = next(r for r in live.relationships if r["_key"] == "svc-000-uses-db")
    assert edge["_fromEntityKey"] == "svc-000"
    assert edge["_toEntityKey"] == "db-main"
    assert edge["_toEntityScope"] == SCOPE
    assert edge["weight"] == 1.5


@pytest.mark.parametrize(
    "options",
    [
        {"page_size": 2},
        {"page_size": 3, "variable_pages": True, "seed": 7},
        {"page_size": 4, "defer_over": 1, "deferred_polls": 2},
    ],
)
def test_read_follows_pages_and_deferred(j1_emulator_factory, options):
    handle = j1_emulator_factory(**options)
    target = handle.target()
    desired = desired_state(9)
    target.apply(SCOPE, desired, lambda line: None)
    assert_holds(target, desired)
    target.close()


def test_relationships_to_other_scopes(j1_emulator, target):
    seed_other_scope(j1_emulator)
    with j1_emulator.store() as store:
        account_id = store.find_entity_by_key("api", "identity", "aws-account")["_id"]

    desired = desired_state(2)
    desired.relationships.append(
        {
            "_key": "svc-000-runs-in-account",
            "_type": "service_runs_in_account",
            "_class": "RUNS_IN",
            "_fromEntityKey": "svc-000",
            "_toEntityId": account_id,
        }
    )
    desired.relationships.append(
        {
            "_key": "user-owns-svc-001",
            "_type": "user_owns_service",
            "_class": "OWNS",
            "_fromEntityKey": "okta-user-1",
            "_fromEntitySource": "api",
            "_fromEntityScope": "identity",
            "_toEntityKey": "svc-001",
        }
    )
    assert target.apply(SCOPE, desired, lambda line: None).succeeded

    live = {r["_key"]: r for r in target.read(SCOPE).relationships}
    assert len(live) == len(desired.relationships)
    runs_in = live["svc-000-runs-in-account"]
    assert (runs_in["_toEntityId"], runs_in["_toEntityKey"]) == (
        account_id,
        "aws-account",
    )
    assert runs_in["_toEntityScope"] == "identity"
    owns = live["user-owns-svc-001"]
    assert (owns["_fromEntityKey"], owns["_fromEntityScope"]) == (
        "okta-user-1",
        "identity",
    )


def test_missing_external_in_bulk(j1_emulator, target):
    seed_other_scope(j1_emulator)
    with j1_emulator.store() as store:
        present_id = store.find_entity_by_key("api", "identity", "okta-user-1")["_id"]
    refs = [
        EntityRef(id=present_id),
        EntityRef(id="00000000-0000-0000-0000-000000000000"),
    ]
    refs += [EntityRef(key=f"missing-{i}", scope="identity") for i in range(150)]
    refs += [EntityRef(key="aws-account", scope="identity", source="api")]
    refs += [EntityRef(key="okta-user-1", scope="elsewhere")]
    before = j1_emulator.request_count
    missing = target.missing_external(refs)
    assert [ref.describe() for ref in missing[:2]] == [
        "_id '00000000-0000-0000-0000-000000000000'",
        "_key 'missing-0' in api:identity",
    ]
    assert len(missing) == 1 + 150 + 1
    # One query for the ids, two for 151 keys of one scope, one for the other scope.
    assert j1_emulator.request_count - before == 4


def test_key_with_quote_reads_back(target):
    desired = DesiredState([entity('it\'s "quoted"', note="a ' and a \"")], [])
    target.apply(SCOPE, desired, lambda line: None)
    assert_holds(target, desired)
    missing = target.missing_external([EntityRef(key='it\'s "quoted"', scope=SCOPE)])
    assert missing == []


# Batches


def test_batches_split_by_size(j1_emulator_factory):
    handle = j1_emulator_factory()
    target = handle.target(
        sync_options={**emulator_fixture.FAST_SYNC, "batch_bytes": 2000}
    )
    desired = desired_state(40)
    assert target.apply(SCOPE, desired, lambda line: None).succeeded
    stats = handle.server.app.stats
    entity_posts = stats["POST /persister/synchronization/jobs/ID/entities"]
    relationship_posts = stats["POST /persister/synchronization/jobs/ID/relationships"]
    assert entity_posts > 2
    assert relationship_posts > 2
    assert stats["request_bytes"] / (entity_posts + relationship_posts) < 2000
    assert_holds(target, desired)
    target.close()


def test_oversized_entity_starts_no_job(j1_emulator):
    target = j1_emulator.target(
        sync_options={**emulator_fixture.FAST_SYNC, "batch_bytes": 500}
    )
    desired = DesiredState([entity("huge", blob="x" * 600)], [])
    with pytest.raises(
        TargetError, match=r"entity 'huge' is \d+ bytes of JSON, over J1's 500-byte"
    ):
        target.apply(SCOPE, desired, lambda line: None)
    assert j1_emulator.server.app.jobs.jobs == {}
    target.close()


def test_duplicate_keys_start_no_job(target, j1_emulator):
    desired = DesiredState([entity("a"), entity("a")], [])
    with pytest.raises(TargetError, match="entity _key 'a' twice"):
        target.apply(SCOPE, desired, lambda line: None)
    assert j1_emulator.server.app.jobs.jobs == {}


# What J1 reports


def test_relationship_create_errors_fail_the_result(target):
    desired = DesiredState(
        [entity("a")],
        [{"_key": "a-ghost", "_type": "x", "_class": "HAS", "_fromEntityKey": "a",
          "_toEntityId": "ffffffff-ffff-ffff-ffff-ffffffffffff"}],
    )  # fmt: skip
    result = target.apply(SCOPE, desired, lambda line: None)
    assert result.status == "FINISHED"
    assert not result.succeeded
    assert result.error_count == 1
    assert result.errors == [
        "J1 counted 1 relationship create errors, usually a relationship end that "
        "does not exist in J1 (numRelationshipCreateErrors)"
    ]


def test_job_error_status_fails_the_result(j1_emulator, target):
    target.apply(SCOPE, desired_state(3), lambda line: None)
    before = snapshot(j1_emulator)
    j1_emulator.set_faults("job-error:nth=1")
    result = target.apply(SCOPE, desired_state(6), lambda line: None)
    assert result.status == "ERROR_UNEXPECTED_FAILURE"
    assert not result.succeeded
    assert result.errors[0].startswith(f"sync job {result.job_id} ended with status ")
    assert snapshot(j1_emulator) == before


def test_poll_time_limit(j1_emulator_factory):
    handle = j1_emulator_factory(finalize_delay=1.0)
    target = handle.target(
        sync_options={**emulator_fixture.FAST_SYNC, "time_limit": 0.2}
    )
    with pytest.raises(
        TargetError, match=r"did not finish within 0s \(status FINALIZE_PENDING\)"
    ):
        target.apply(SCOPE, desired_state(2), lambda line: None)
    target.close()


def test_interrupt_during_upload_aborts(target, j1_emulator):
    def interrupt(line):
        if line.startswith("uploaded"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        target.apply(SCOPE, desired_state(), interrupt)
    (job,) = j1_emulator.server.app.jobs.jobs.values()
    assert job.status == "ABORTED"
    with j1_emulator.store() as store:
        assert store.count() == (0, 0)


def test_from_environment_needs_credentials():
    with pytest.raises(CredentialsError, match="set J1_API_KEY"):
        JupiterOneTarget.from_environment({})


def test_graphql_url_alone_is_rejected(j1_emulator):
    # Plans would read the emulator while applies sent sync jobs to J1 itself.
    environ = {**j1_emulator.env}
    del environ["J1_API_BASE_URL"]
    with pytest.raises(UsageError, match="^J1_GRAPHQL_URL is set but J1_API_BASE_URL"):
        JupiterOneTarget.from_environment(environ)
    assert j1_emulator.request_count == 0


# Faults: each apply finishes or fails with one clear line; nothing outside the
# plan changes; a rerun without faults converges.

FAULTS = [
    ("rate-limit:every=3,retry-after=1", True),
    ("rate-limit:every=2", True),
    ("rate-limit-200:every=2", True),
    ("server-error:every=2,status=503", True),
    ("server-error:every=3,status=502", True),
    ("slow:every=2,delay=0.2", True),
    ("drop:every=2", True),
    ("drop-after:every=2", True),
    ("drop-after:path=/finalize", True),
    ("server-error:nth=3,status=500", False),
    ("server-error:path=/finalize,status=500", False),
    ("server-error:path=/persister,status=503", False),
    ("job-error:nth=1,job-status=ERROR_UNEXPECTED_FAILURE", False),
]


@pytest.mark.parametrize(("spec", "finishes"), FAULTS)
def test_apply_under_fault(j1_emulator, spec, finishes, caplog, capsys):
    seed_other_scope(j1_emulator)
    first = desired_state(4)
    target = j1_emulator.target(
        client_options={**emulator_fixture.FAST_CLIENT, "retries": 3}
    )
    assert target.apply(SCOPE, first, lambda line: None).succeeded
    before = snapshot(j1_emulator)
    second = desired_state(8)
    second.entities[0]["tier"] = 7

    j1_emulator.set_faults(spec)
    with caplog.at_level(logging.INFO):
        try:
            result = target.apply(SCOPE, second, print)
            failure = None if result.succeeded else "; ".join(result.errors)
        except J1GitOpsError as exc:
            failure = str(exc)
    assert (failure is None) == finishes, failure
    if failure is not None:
        assert "\n" not in failure
        assert snapshot(j1_emulator) == before
    assert outside_scope(snapshot(j1_emulator)) == outside_scope(before)
    captured = capsys.readouterr()
    assert j1_emulator.api_key not in caplog.text + captured.out + captured.err
    assert j1_emulator.api_key not in (failure or "")

    j1_emulator.set_faults()
    assert target.apply(SCOPE, second, lambda line: None).succeeded
    assert_holds(target, second)
    target.close()


def test_failed_upload_aborts_the_job(j1_emulator, target):
    j1_emulator.set_faults("server-error:path=/entities,status=500")
    with pytest.raises(J1GitOpsError, match="failed with HTTP 500"):
        target.apply(SCOPE, desired_state(), lambda line: None)
    (job,) = j1_emulator.server.app.jobs.jobs.values()
    assert job.status == "ABORTED"
