"""The committed schemas/ files are exactly what scripts/generate_schemas.py writes.

The tarball comes from ``npm pack``, so the test needs npm and the npm registry.
It is skipped only where npm is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "generate_schemas.py"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_schemas", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = load_generator()


@pytest.fixture(scope="session")
def tarball(tmp_path_factory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed, so the data-model package cannot be fetched")
    return generator.download(tmp_path_factory.mktemp("npm-cache"))


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True
    )


def test_committed_schemas_match_generator(tarball):
    result = run_script("--tarball", str(tarball), "--check")
    assert result.returncode == 0, result.stderr


def test_check_reports_changed_file(tarball, tmp_path):
    output = tmp_path / "schemas"
    assert (
        run_script("--tarball", str(tarball), "--output", str(output)).returncode == 0
    )
    (output / "classes" / "Host.json").write_text("{}\n")
    (output / "classes" / "Stale.json").write_text("{}\n")
    result = run_script("--tarball", str(tarball), "--output", str(output), "--check")
    assert result.returncode == 1
    assert "Host.json" in result.stderr
    assert "Stale.json" in result.stderr


def test_generation_is_deterministic(tarball):
    schemas, verbs = generator.read_package(tarball)
    first = generator.build(schemas, verbs)
    second = generator.build(*generator.read_package(tarball))
    assert first == second
    assert all(text.endswith("}\n") for text in first.values())


def test_wrong_checksum_is_rejected(tmp_path):
    fake = tmp_path / "fake.tgz"
    fake.write_bytes(b"not the package")
    result = run_script("--tarball", str(fake), "--check")
    assert result.returncode != 0
    assert "SHA-256" in result.stderr


def test_generated_files_record_version_and_license():
    for path in sorted((REPO / "schemas").rglob("*.json")):
        document = json.loads(path.read_text())
        assert "@jupiterone/data-model@0.64.2" in document["$comment"], path
        assert "Mozilla Public License" in document["$comment"], path


def test_verbs_parsed_from_typescript_enum(monkeypatch):
    monkeypatch.setattr(generator, "VERB_COUNT", 2)
    texts = {
        "ts": 'export declare enum RelationshipClass {\n    IS = "IS",\n    HAS = "HAS"\n}',
        "js": 'RelationshipClass["IS"] = "IS";\nRelationshipClass["HAS"] = "HAS";',
    }
    assert generator.extract_verbs(texts) == ["HAS", "IS"]


def test_verbs_disagreeing_between_files_are_rejected(monkeypatch):
    monkeypatch.setattr(generator, "VERB_COUNT", 2)
    texts = {
        "ts": 'export declare enum RelationshipClass {\n    IS = "IS",\n    HAS = "HAS"\n}',
        "js": 'RelationshipClass["IS"] = "IS";',
    }
    with pytest.raises(SystemExit, match="disagree"):
        generator.extract_verbs(texts)
