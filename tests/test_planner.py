"""The planner, table-driven: what the inventory says against what the store holds."""

from __future__ import annotations

import pytest

from j1gitops.diagnostics import Location
from j1gitops.inventory.model import Entity, EntityRef, Inventory, Relationship
from j1gitops.plan.model import Action, Kind, Plan
from j1gitops.plan.planner import compute_plan, desired_state
from j1gitops.store.sqlite import Store
from j1gitops.targets.base import LiveState

SCOPE = "test-scope"
HERE = Location("inv.yaml", 1, 1)


def entity(
    key="device:0001", properties=None, classes=("Device",), type_="acme_laptop"
):
    return Entity(key, type_, tuple(classes), dict(properties or {}), HERE)


def relationship(from_key="person:0001", to_key="device:0001", properties=None):
    return Relationship(
        f"{from_key}|owns|{to_key}",
        "acme_person_owns_laptop",
        "OWNS",
        EntityRef(key=from_key),
        EntityRef(key=to_key),
        dict(properties or {}),
        HERE,
    )


def live_state(inventory: Inventory) -> LiveState:
    """Apply ``inventory`` to a real in-memory store and read the scope back."""
    store = Store(":memory:")
    desired = desired_state(inventory)
    store.synchronize(SCOPE, desired.entities, desired.relationships)
    entities, relationships = store.read_scope(SCOPE)
    return LiveState(entities, relationships)


def plan_for(inventory: Inventory, live: Inventory) -> Plan:
    plan, _ = compute_plan(inventory, live_state(live), SCOPE, "local")
    return plan


PERSON = entity("person:0001", {"name": "Ada"}, ("Person",), "acme_person")

CASES = [
    # (name, live entities, desired entities, expected (action, key, property changes))
    ("empty both", [], [], []),
    ("create", [], [entity(properties={"name": "a"})], [("create", "device:0001", [])]),
    ("delete", [entity()], [], [("delete", "device:0001", [])]),
    ("unchanged", [entity(properties={"n": 1})], [entity(properties={"n": 1})], []),
    (
        "int equals float",
        [entity(properties={"n": 1})],
        [entity(properties={"n": 1.0})],
        [],
    ),
    (
        "bool is not int",
        [entity(properties={"n": 1})],
        [entity(properties={"n": True})],
        [("update", "device:0001", [("n", "changed")])],
    ),
    (
        "class string or list",
        [entity(classes=["Device"])],
        [entity(classes=("Device",))],
        [],
    ),
    (
        "class order ignored",
        [entity(classes=["Host", "Device"])],
        [entity(classes=("Device", "Host"))],
        [],
    ),
    (
        "class changed",
        [entity(classes=["Device"])],
        [entity(classes=("Host",))],
        [("update", "device:0001", [("_class", "changed")])],
    ),
    (
        "null is absent",
        [entity(properties={})],
        [entity(properties={"serial": None})],
        [],
    ),
    (
        "property added",
        [entity()],
        [entity(properties={"a": "x"})],
        [("update", "device:0001", [("a", "added")])],
    ),
    (
        "property removed",
        [entity(properties={"a": "x"})],
        [entity()],
        [("update", "device:0001", [("a", "removed")])],
    ),
    (
        "property changed",
        [entity(properties={"a": "x"})],
        [entity(properties={"a": "y"})],
        [("update", "device:0001", [("a", "changed")])],
    ),
    (
        "list order matters",
        [entity(properties={"a": ["x", "y"]})],
        [entity(properties={"a": ["y", "x"]})],
        [("update", "device:0001", [("a", "changed")])],
    ),
    (
        "type changed",
        [entity()],
        [entity(type_="acme_desktop")],
        [("update", "device:0001", [("_type", "changed")])],
    ),
]


@pytest.mark.parametrize(
    ("name", "live", "desired", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_entity_plan(name, live, desired, expected):
    plan = plan_for(Inventory(entities=desired), Inventory(entities=live))
    actual = [
        (c.action.value, c.key, [(p.name, p.change) for p in c.properties])
        for c in plan.changes
    ]
    assert actual == expected


def test_unchanged_count():
    same = [entity("device:0001"), entity("device:0002")]
    plan = plan_for(
        Inventory(entities=same + [entity("device:0003")]), Inventory(entities=same)
    )
    assert plan.unchanged_entities == 2
    assert plan.summary() == "Plan: 1 to create, 0 to update, 0 to delete."


def test_relationship_create_update_delete():
    live = Inventory(
        entities=[PERSON, entity()],
        relationships=[relationship(properties={"since": 2020})],
    )
    desired = Inventory(
        entities=[PERSON, entity(), entity("device:0002")],
        relationships=[
            relationship(properties={"since": 2021}),
            relationship(to_key="device:0002"),
        ],
    )
    plan = plan_for(desired, live)
    actual = [(c.kind, c.action, c.key) for c in plan.changes]
    assert actual == [
        (Kind.ENTITY, Action.CREATE, "device:0002"),
        (Kind.RELATIONSHIP, Action.CREATE, "person:0001|owns|device:0002"),
        (Kind.RELATIONSHIP, Action.UPDATE, "person:0001|owns|device:0001"),
    ]
    update = plan.changes[2]
    assert [(p.name, p.before, p.after) for p in update.properties] == [
        ("since", 2020, 2021)
    ]


def test_relationship_unchanged_after_apply():
    inventory = Inventory(entities=[PERSON, entity()], relationships=[relationship()])
    plan = plan_for(inventory, inventory)
    assert plan.changes == []
    assert plan.unchanged_relationships == 1


def test_relationship_end_moved():
    live = Inventory(
        entities=[PERSON, entity(), entity("device:0002")],
        relationships=[relationship()],
    )
    moved = relationship()
    moved.to_ref = EntityRef(key="device:0002")
    desired = Inventory(entities=live.entities, relationships=[moved])
    plan = plan_for(desired, live)
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert [(p.name, p.before, p.after) for p in change.properties] == [
        ("_toEntityKey", "device:0001", "device:0002")
    ]


def test_deletes_sorted_first():
    live = Inventory(entities=[entity("device:0009")])
    desired = Inventory(entities=[entity("device:0001")])
    plan = plan_for(desired, live)
    assert [c.action for c in plan.changes] == [Action.DELETE, Action.CREATE]


def test_other_scope_never_deleted():
    store = Store(":memory:")
    other = desired_state(Inventory(entities=[entity("device:other")]))
    store.synchronize("other-scope", other.entities, [])
    entities, relationships = store.read_scope(SCOPE)
    plan, _ = compute_plan(
        Inventory(), LiveState(entities, relationships), SCOPE, "local"
    )
    assert plan.changes == []


def test_plan_round_trips_through_dict():
    plan = plan_for(Inventory(entities=[entity(properties={"a": 1})]), Inventory())
    again = Plan.from_dict(plan.to_dict())
    assert again.to_dict() == plan.to_dict()
