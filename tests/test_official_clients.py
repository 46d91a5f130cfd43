"""J1's official clients against the emulator: the Python client and the Node one.

The Python client (`jupiterone` on PyPI) is a test dependency. The Node client
(`@jupiterone/jupiterone-client-nodejs` 0.21.2) is installed with npm into a
cache directory on first use; its tests skip when npm or the registry is
missing. Its `j1` CLI cannot be pointed at another URL, so the tests drive its
library and set ``queryEndpoint`` before ``init()``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import emulator_fixture
import pytest

from j1gitops.normalize import canonical_properties
from j1gitops.targets.base import DesiredState

jupiterone = pytest.importorskip("jupiterone")

j1_emulator = emulator_fixture.j1_emulator
j1_emulator_factory = emulator_fixture.j1_emulator_factory

NODE_PACKAGE = "@jupiterone/jupiterone-client-nodejs"
NODE_VERSION = "0.21.2"
SCOPE = "inventory"


def python_client(handle, token=None):
    return jupiterone.JupiterOneClient(
        account=handle.account_id,
        token=token or handle.api_key,
        url=handle.graphql_url,
        sync_url=handle.url,
    )


def applied(handle, count=5):
    """Apply a small inventory through JupiterOneTarget and return its state."""
    desired = DesiredState(
        [
            {"_key": f"svc-{i}", "_type": "service", "_class": "Service", "tier": i}
            for i in range(count)
        ],
        [
            {
                "_key": f"svc-{i}-uses-svc-{i + 1}",
                "_type": "service_uses_service",
                "_class": "USES",
                "_fromEntityKey": f"svc-{i}",
                "_toEntityKey": f"svc-{i + 1}",
            }
            for i in range(count - 1)
        ],
    )
    target = handle.target()
    assert target.apply(SCOPE, desired, lambda line: None).succeeded
    return target, desired


def properties_by_key(objects):
    return {
        obj["_key"]: canonical_properties(
            {name: value for name, value in obj.items() if not name.startswith("_")}
        )
        for obj in objects
    }


# The Python client


def test_python_query_with_cursor_pages(j1_emulator_factory):
    handle = j1_emulator_factory(page_size=2)
    target, _ = applied(handle)
    found = python_client(handle).query_v1("FIND Service")
    assert sorted(row["entity"]["_key"] for row in found["data"]) == [
        f"svc-{i}" for i in range(5)
    ]
    assert all(row["entity"]["_scope"] == SCOPE for row in found["data"])
    target.close()


def test_python_query_inline_limit(j1_emulator):
    target, _ = applied(j1_emulator)
    found = python_client(j1_emulator).query_v1(
        "FIND Service AS s ORDER BY s._key LIMIT 2"
    )
    assert [row["entity"]["_key"] for row in found["data"]] == ["svc-0", "svc-1"]
    target.close()


def test_python_query_table_and_tree(j1_emulator):
    target, _ = applied(j1_emulator)
    client = python_client(j1_emulator)
    table = client.query_v1(
        "FIND Service AS a THAT USES >> AS r Service AS b RETURN a._key, r._key"
    )
    assert len(table["data"]) == 4
    tree = client.query_v1("FIND Service THAT USES Service RETURN TREE")
    assert len(tree["vertices"]) == 5
    assert len(tree["edges"]) == 4
    target.close()


def test_python_deferred_query(j1_emulator_factory):
    handle = j1_emulator_factory(page_size=2, deferred_polls=1)
    target, _ = applied(handle)
    rows = python_client(handle).query_with_deferred_response("FIND Service")
    assert sorted(row["entity"]["_key"] for row in rows) == [
        f"svc-{i}" for i in range(5)
    ]
    target.close()


def test_python_entity_mutations(j1_emulator):
    client = python_client(j1_emulator)
    created = client.create_entity(
        entity_key="py-entity-0001",
        entity_type="py_thing",
        entity_class="Thing",
        properties={"color": "blue"},
    )
    entity_id = created["entity"]["_id"]
    assert created["vertex"]["entity"]["_id"] == entity_id
    updated = client.update_entity(entity_id=entity_id, properties={"color": "green"})
    assert updated["entity"]["_id"] == entity_id
    other = client.create_entity(
        entity_key="py-entity-0002", entity_type="py_thing", entity_class="Thing"
    )
    other_id = other["entity"]["_id"]
    relationship = client.create_relationship(
        relationship_key="py-rel-0001",
        relationship_type="py_thing_has_py_thing",
        relationship_class="HAS",
        from_entity_id=entity_id,
        to_entity_id=other_id,
    )
    relationship_id = relationship["relationship"]["_id"]
    assert relationship["edge"]["relationship"]["_id"] == relationship_id
    changed = client.update_relationship(
        relationship_id=relationship_id,
        from_entity_id=entity_id,
        to_entity_id=other_id,
        properties={"weight": 2},
    )
    assert changed["relationship"]["_class"] == "HAS"
    found = client.query_v1("FIND py_thing WITH color = 'green'")
    assert [row["entity"]["_id"] for row in found["data"]] == [entity_id]
    client.delete_relationship(
        relationship_id=relationship_id, from_entity_id=entity_id, to_entity_id=other_id
    )
    deleted = client.delete_entity(entity_id=other_id)
    assert deleted["entity"]["_id"] == other_id
    with j1_emulator.store() as store:
        assert store.count() == (1, 0)
        assert store.find_entities_by_id([entity_id])[entity_id]["color"] == "green"


def test_python_change_shows_as_drift(j1_emulator):
    target, desired = applied(j1_emulator)
    assert properties_by_key(target.read(SCOPE).entities) == properties_by_key(
        desired.entities
    )
    client = python_client(j1_emulator)
    row = client.query_v1("FIND Service WITH _key = 'svc-2'")["data"][0]
    client.update_entity(entity_id=row["entity"]["_id"], properties={"tier": 99})
    live = properties_by_key(target.read(SCOPE).entities)
    assert live["svc-2"] == {"tier": 99}
    assert {k: v for k, v in live.items() if k != "svc-2"} == {
        k: v for k, v in properties_by_key(desired.entities).items() if k != "svc-2"
    }
    target.close()


def test_python_errors(j1_emulator):
    with pytest.raises(jupiterone.errors.JupiterOneApiError, match="401: Unauthorized"):
        python_client(j1_emulator, token="wrong-token-0123456789").query_v1("FIND *")
    with pytest.raises(jupiterone.errors.JupiterOneApiError, match="MISSING_SCOPE"):
        python_client(j1_emulator).start_sync_job(sync_mode="DIFF", source="api")
    j1_emulator.set_faults("rate-limit:nth=1")
    with pytest.raises(jupiterone.errors.JupiterOneApiRetryError):
        python_client(j1_emulator).query_v1("FIND *")
    j1_emulator.set_faults("rate-limit-200:nth=1")
    with pytest.raises(jupiterone.errors.JupiterOneApiRetryError):
        python_client(j1_emulator).query_v1("FIND *")


# The Node client

NODE_SCRIPT = r"""
const JupiterOneClient = require(process.env.J1_NODE_CLIENT);

async function main() {
  const client = new JupiterOneClient({
    account: process.env.J1_ACCOUNT_ID,
    accessToken: process.env.J1_API_KEY,
  });
  client.queryEndpoint = process.env.J1_GRAPHQL_URL;
  await client.init();
  const first = await client.createEntity(
    'node-entity-0001', 'node_thing', ['Thing'], { color: 'blue' });
  const second = await client.createEntity('node-entity-0002', 'node_thing', 'Thing', {});
  const updated = await client.updateEntity(first.entity._id, { color: 'green' });
  const relationship = await client.createRelationship(
    'node-rel-0001', 'node_thing_has_node_thing', 'HAS',
    first.entity._id, second.entity._id, { weight: 1 });
  const rows = await client.queryV1("FIND node_thing WITH color = 'green'");
  const services = await client.queryV1('FIND Service');
  const deleted = await client.deleteEntity(second.entity._id, true);
  console.log(JSON.stringify({ first, second, updated, relationship, rows, services, deleted }));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
"""


@pytest.fixture(scope="session")
def node_client() -> Path:
    """Install the Node client once into a cache directory, or skip."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    cache = Path(
        os.environ.get("J1GITOPS_NODE_CACHE")
        or Path(tempfile.gettempdir()) / "j1gitops-node-client"
    )
    package = cache / "node_modules" / NODE_PACKAGE
    if (
        not (package / "package.json").exists()
        or json.loads((package / "package.json").read_text()).get("version")
        != NODE_VERSION
    ):
        cache.mkdir(parents=True, exist_ok=True)
        command = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache)]
        try:
            subprocess.run(
                [*command, f"{NODE_PACKAGE}@{NODE_VERSION}"],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            pytest.skip(
                f"npm could not install {NODE_PACKAGE}: {detail.strip()[-200:]}"
            )
    return package


def test_node_client_mutations_and_queries(j1_emulator, node_client, tmp_path):
    target, _ = applied(j1_emulator)
    script = tmp_path / "drive.js"
    script.write_text(NODE_SCRIPT)
    environ = {**os.environ, **j1_emulator.env, "J1_NODE_CLIENT": str(node_client)}
    finished = subprocess.run(
        ["node", str(script)], env=environ, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    first_id = result["first"]["entity"]["_id"]
    assert result["updated"]["entity"]["_id"] == first_id
    assert result["relationship"]["edge"]["relationship"]["_id"]
    assert [row["entity"]["_id"] for row in result["rows"]] == [first_id]
    assert sorted(row["entity"]["_key"] for row in result["services"]) == [
        f"svc-{i}" for i in range(5)
    ]
    assert result["deleted"]["entity"]["_deleted"] is True
    with j1_emulator.store() as store:
        stored = store.find_entities_by_id([first_id])[first_id]
        assert (stored["color"], stored["_source"]) == ("green", "api")
        assert store.count(SCOPE) == (5, 4)
    assert j1_emulator.api_key not in finished.stdout + finished.stderr
    target.close()
