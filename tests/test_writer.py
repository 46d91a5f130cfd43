"""The stable YAML writer: key order, quoting, byte-identical output, atomic files."""

from __future__ import annotations

import os
import random
import stat
import string
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from j1gitops.inventory.writer import (
    OutputPathError,
    UnwritableValue,
    atomic_output,
    dump_document,
    format_scalar,
    ordered_keys,
    write_text_atomic,
    write_tree_atomic,
)
from j1gitops.inventory.yamlload import load_text

J1GITOPS = str(Path(sys.executable).with_name("j1gitops"))

# Strings that a YAML 1.1 or 1.2 reader would turn into something else unquoted,
# or that are not valid as plain scalars at all.
AMBIGUOUS = [
    "NO",
    "no",
    "Yes",
    "on",
    "OFF",
    "y",
    "N",
    "nO",
    "~",
    "null",
    "Null",
    "",
    "02134",
    "0755",
    "1.10",
    "1.0",
    "1e3",
    "-1",
    "+1",
    ".5",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1:30",
    "12:30:45",
    "0:30.5",
    ".inf",
    "-.Inf",
    ".NaN",
    "2024-01-05",
    "2024-1-5",
    "2024-01-05T10:00:00Z",
    "2024-01-05 10:00:00",
    "<<",
    "=",
    "10.0.0.1",
    "1.2.3",
    "a: b",
    "a #b",
    "#x",
    "-x",
    "- x",
    "? x",
    ":x",
    "x:",
    "@x",
    "`x",
    "%x",
    "!x",
    "&x",
    "*x",
    "|x",
    ">x",
    "'x",
    '"x',
    "[x",
    "{x",
    " lead",
    "trail ",
    "a\nb",
    "tab\there",
    "\x00",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufeff",
    "\xa0x",
]
PLAIN = ["web-01", "hello world", "Serial Number", "tag.Env", "MacBook Pro", "é日本"]


def round_trip(value):
    text = dump_document([{"_key": "k", "_type": "t", "_class": "C", "v": value}], [])
    loaded = load_text(text, "out.yaml")
    assert not [d for d in loaded.diagnostics if d.is_error]
    return text, loaded.documents[0]["entities"][0]["v"], yaml.safe_load(text)


@pytest.mark.parametrize("value", AMBIGUOUS)
def test_ambiguous_strings_read_back_as_strings(value):
    text, core, yaml11 = round_trip(value)
    assert core == value
    assert yaml11["entities"][0]["v"] == value


@pytest.mark.parametrize(
    "value", ["NO", "02134", "1.10", "2024-01-05", "~", "null", "1:30", "yes"]
)
def test_ambiguous_strings_are_double_quoted(value):
    assert format_scalar(value) == f'"{value}"'


@pytest.mark.parametrize("value", PLAIN)
def test_ordinary_strings_stay_plain(value):
    assert format_scalar(value) == value


def test_random_strings_round_trip():
    generator = random.Random(5)
    alphabet = string.printable + "éü日\x85\u2028"
    for _ in range(2000):
        value = "".join(
            generator.choice(alphabet) for _ in range(generator.randint(1, 8))
        )
        _, core, yaml11 = round_trip(value)
        assert core == value, repr(value)
        assert yaml11["entities"][0]["v"] == value, repr(value)


def test_scalars_of_other_types():
    assert [format_scalar(v) for v in (None, True, False, 7, 2.5, 1e16)] == [
        "null",
        "true",
        "false",
        "7",
        "2.5",
        "1e+16",
    ]
    assert format_scalar(float("inf")) == ".inf"


def test_key_order_is_identity_then_sorted():
    keys = ordered_keys(
        {
            "z": 1,
            "_class": 1,
            "BYOD": 1,
            "_toEntityKey": 1,
            "_key": 1,
            "a": 1,
            "_type": 1,
        }
    )
    assert keys == ["_key", "_type", "_class", "_toEntityKey", "BYOD", "a", "z"]


def test_document_layout():
    entity = {
        "name": "Laptop",
        "_class": ["Device", "Host"],
        "tags": ["a", "b"],
        "_type": "acme_laptop",
        "_key": "device-0001",
        "empty": [],
        "nested": {"b": 1, "a": [1, {"x": True}]},
    }
    relationship = {"_class": "OWNS", "_toEntityKey": "b", "_fromEntityKey": "a"}
    assert dump_document([entity], [relationship]) == (
        "entities:\n"
        "  - _key: device-0001\n"
        "    _type: acme_laptop\n"
        "    _class:\n"
        "      - Device\n"
        "      - Host\n"
        "    empty: []\n"
        "    name: Laptop\n"
        "    nested:\n"
        "      a:\n"
        "        - 1\n"
        "        - x: true\n"
        "      b: 1\n"
        "    tags:\n"
        "      - a\n"
        "      - b\n"
        "relationships:\n"
        "  - _class: OWNS\n"
        "    _fromEntityKey: a\n"
        "    _toEntityKey: b\n"
    )


def test_same_input_gives_same_bytes():
    entities = [
        {"_key": f"k{i}", "_type": "t", "_class": "C", "n": i} for i in range(50)
    ]
    first = dump_document(entities, [])
    shuffled = [dict(reversed(list(e.items()))) for e in entities]
    assert dump_document(shuffled, []) == first


def test_empty_document_is_an_empty_inventory():
    assert dump_document([], []) == "entities: []\n"


def test_lone_surrogate_is_rejected():
    with pytest.raises(UnwritableValue, match="lone surrogate"):
        format_scalar("a\ud800b")


def test_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "out.yaml"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_output(str(target)) as handle:
        handle.write("half")
        raise RuntimeError("stop")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]


def test_write_text_atomic_replaces(tmp_path):
    target = tmp_path / "sub" / "out.yaml"
    write_text_atomic(str(target), "new\n")
    assert target.read_text() == "new\n"


def test_tree_write_into_new_and_existing_folders(tmp_path):
    folder = tmp_path / "export"
    write_tree_atomic(str(folder), {"a.yaml": "a\n", "b/c.json": "c\n"})
    assert (folder / "a.yaml").read_text() == "a\n"
    assert (folder / "b/c.json").read_text() == "c\n"
    (folder / "keep.yaml").write_text("keep\n")
    write_tree_atomic(str(folder), {"a.yaml": "A\n"})
    assert (folder / "a.yaml").read_text() == "A\n"
    assert (folder / "keep.yaml").read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


CSV = "serial,name\nSER0000001,one\n"
IMPORT_ARGS = ("--class", "Device", "--type", "acme_laptop", "--key", "{serial}")


def _import_to(tmp_path, output: str, **run):
    """Run ``j1gitops import csv`` as a process, writing to ``output``."""
    (tmp_path / "in.csv").write_text(CSV)
    return subprocess.run(
        [J1GITOPS, "import", "csv", "in.csv", *IMPORT_ARGS, "-o", output],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        **run,
    )


def test_output_through_symlink_keeps_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real/out.yaml").write_text("old\n")
    os.chmod(tmp_path / "real/out.yaml", 0o640)
    (tmp_path / "link.yaml").symlink_to("real/out.yaml")
    result = _import_to(tmp_path, "link.yaml")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.yaml").is_symlink()
    assert "SER0000001" in (tmp_path / "real/out.yaml").read_text()
    assert stat.S_IMODE(os.stat(tmp_path / "real/out.yaml").st_mode) == 0o640
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["out.yaml"]


def test_output_through_dangling_symlink(tmp_path):
    (tmp_path / "link.yaml").symlink_to("made.yaml")
    result = _import_to(tmp_path, "link.yaml")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.yaml").is_symlink()
    assert "SER0000001" in (tmp_path / "made.yaml").read_text()


def test_output_to_stdout_symlink(tmp_path):
    (tmp_path / "out").symlink_to("/proc/self/fd/1")
    result = _import_to(tmp_path, "out")
    assert result.returncode == 0, result.stderr
    assert "_key: SER0000001" in result.stdout
    assert (tmp_path / "out").is_symlink()


def test_output_to_fifo_writes_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_text()), daemon=True
    )
    reader.start()
    result = _import_to(tmp_path, "pipe", timeout=30)
    if not received and stat.S_ISFIFO(os.lstat(fifo).st_mode):
        with open(fifo, "w"):  # unblock the reader when nothing opened the FIFO
            pass
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "_key: SER0000001" in received[0]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_output_to_character_device(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    result = _import_to(tmp_path, "null")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_new_output_file_mode_follows_umask(tmp_path):
    def set_umask():
        os.umask(0o027)

    result = _import_to(tmp_path, "out.yaml", preexec_fn=set_umask)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "out.yaml").st_mode) == 0o640


def test_output_folder_is_one_line_error(cli, tmp_path):
    (tmp_path / "in.csv").write_text(CSV)
    (tmp_path / "folder").mkdir()
    result = cli("import", "csv", "in.csv", *IMPORT_ARGS, "-o", "folder", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: folder is a folder; give the path of a file"
    )
    assert len(result.stderr.splitlines()) == 1
    assert list((tmp_path / "folder").iterdir()) == []


def test_tree_write_onto_a_file_fails(tmp_path):
    (tmp_path / "taken").write_text("keep\n")
    with pytest.raises(OutputPathError, match="taken is a file, not a folder"):
        write_tree_atomic(str(tmp_path / "taken"), {"a.yaml": "a\n"})
    assert (tmp_path / "taken").read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_tree_write_through_folder_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    write_tree_atomic(str(tmp_path / "link"), {"a.yaml": "a\n"})
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real/a.yaml").read_text() == "a\n"
