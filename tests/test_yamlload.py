"""The YAML loader: YAML 1.2 core scalars, duplicate keys, encodings, positions."""

from __future__ import annotations

import codecs
import math

import pytest

from j1gitops.inventory.yamlload import HAVE_LIBYAML, load_file, load_text


def load_value(text: str):
    loaded = load_text(f"value: {text}\n", "f.yaml")
    assert not loaded.failed, [str(d) for d in loaded.diagnostics]
    return loaded.documents[0]["value"], loaded.diagnostics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("yes", "yes"),
        ("Yes", "Yes"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("1:30", "1:30"),
        ("10:20:30", "10:20:30"),
        ("2024-01-05", "2024-01-05"),
        ("2024-01-05T10:00:00Z", "2024-01-05T10:00:00Z"),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("12", 12),
        ("-7", -7),
        ("0", 0),
        ("1.5", 1.5),
        ('"02134"', "02134"),
        ("'yes'", "yes"),
    ],
)
def test_scalar_core_schema(text, expected):
    value, diagnostics = load_value(text)
    assert value == expected
    assert type(value) is type(expected)
    assert diagnostics == []


@pytest.mark.parametrize("text", ["02134", "0755", "+5", "0o17", "0x1F", "007.5"])
def test_lossy_number_kept_as_string(text):
    value, diagnostics = load_value(text)
    assert value == text
    assert len(diagnostics) == 1
    assert diagnostics[0].rule == "lossy-number"
    assert diagnostics[0].severity.value == "warning"
    assert "f.yaml:1:8" in str(diagnostics[0])


@pytest.mark.parametrize(
    ("text", "expected", "shown"),
    [("1.10", 1.1, "1.1"), ("2.0", 2.0, "2"), ("1.5e3", 1500.0, "1500")],
)
def test_float_that_changes_text_warns(text, expected, shown):
    value, diagnostics = load_value(text)
    assert value == expected
    (diagnostic,) = diagnostics
    assert diagnostic.rule == "lossy-number"
    assert f"value {text} is read as the number {shown}" in diagnostic.message


def test_infinity_and_nan_are_floats():
    assert load_value(".inf")[0] == math.inf
    assert load_value("-.inf")[0] == -math.inf
    assert math.isnan(load_value(".nan")[0])


def test_duplicate_key_names_both_lines():
    loaded = load_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    (diagnostic,) = loaded.diagnostics
    assert diagnostic.rule == "duplicate-key"
    assert str(diagnostic.location) == "f.yaml:3:1"
    assert "line 1" in diagnostic.message
    assert "line 3" in diagnostic.message


def test_duplicate_key_nested():
    text = "entities:\n  - _key: k\n    tags: {x: 1}\n    name: a\n    name: b\n"
    loaded = load_text(text, "f.yaml")
    (diagnostic,) = loaded.diagnostics
    assert diagnostic.rule == "duplicate-key"
    assert diagnostic.location.line == 5
    assert "first defined on line 4" in diagnostic.message


def test_several_documents():
    loaded = load_text("a: 1\n---\n- x\n---\n", "f.yaml")
    assert loaded.documents == [{"a": 1}, ["x"], None]
    assert loaded.document_positions[1] == (3, 1)


def test_key_positions_recorded():
    loaded = load_text("first: 1\nsecond:\n  inner: 2\n", "f.yaml")
    document = loaded.documents[0]
    assert document.key_positions == {"first": (1, 1), "second": (2, 1)}
    assert document["second"].key_positions == {"inner": (3, 3)}


def test_python_tag_rejected():
    loaded = load_text("a: !!python/object/apply:os.system [echo hi]\n", "f.yaml")
    assert loaded.failed
    assert loaded.diagnostics[0].rule == "yaml-tag"


def test_syntax_error_has_position():
    loaded = load_text("a: [1, 2\nb: 3\n", "f.yaml")
    (diagnostic,) = loaded.diagnostics
    assert diagnostic.rule == "yaml-syntax"
    assert diagnostic.location.line >= 2


def test_alias_expansion_stays_linear():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 30):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    loaded = load_text("\n".join(lines) + "\n", "bomb.yaml")
    assert not loaded.failed
    document = loaded.documents[0]
    assert document["a29"][0] is document["a28"]


def test_utf8_bom_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(codecs.BOM_UTF8 + "name: Zoë\n".encode())
    loaded = load_file(str(path), "bom.yaml")
    assert loaded.documents == [{"name": "Zoë"}]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF16_LE + "a: 1\n".encode("utf-16-le"), "UTF-16"),
        (codecs.BOM_UTF16_BE + "a: 1\n".encode("utf-16-be"), "UTF-16"),
        ("a: 1\nname: Zoë\n".encode("latin-1"), "invalid UTF-8 byte 0xeb"),
    ],
)
def test_other_encodings_rejected(tmp_path, data, expected):
    path = tmp_path / "f.yaml"
    path.write_bytes(data)
    loaded = load_file(str(path), "f.yaml")
    assert loaded.failed
    (diagnostic,) = loaded.diagnostics
    assert diagnostic.rule == "encoding"
    assert expected in diagnostic.message


def test_latin1_error_points_at_line(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes("a: 1\nname: Zo\xeb\n".encode("latin-1"))
    (diagnostic,) = load_file(str(path), "f.yaml").diagnostics
    assert (diagnostic.location.line, diagnostic.location.column) == (2, 9)


def test_json_document_loads():
    loaded = load_text('{"entities":[{"_key":"k","n":1.5e3,"t":true}]}', "f.json")
    assert loaded.documents == [{"entities": [{"_key": "k", "n": 1500.0, "t": True}]}]


def test_missing_file_is_diagnostic(tmp_path):
    loaded = load_file(str(tmp_path / "nope.yaml"), "nope.yaml")
    assert loaded.failed
    assert loaded.diagnostics[0].rule == "io"


def test_libyaml_present():
    # CI installs PyYAML wheels, which ship libyaml; the fast parser must be in use.
    assert HAVE_LIBYAML


def test_merge_key_rejected():
    loaded = load_text("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n", "f.yaml")
    (diagnostic,) = loaded.diagnostics
    assert diagnostic.rule == "yaml-merge"
    assert diagnostic.location.line == 3


def test_integer_beyond_double_precision_kept_as_string():
    value, (diagnostic,) = load_value("9007199254740993")
    assert value == "9007199254740993"
    assert diagnostic.rule == "lossy-number"
    assert load_value("9007199254740992")[0] == 2**53


def test_huge_integer_kept_as_string():
    text = "9" * 5000
    value, (diagnostic,) = load_value(text)
    assert value == text
    assert diagnostic.rule == "lossy-number"
