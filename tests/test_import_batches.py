"""The batch conversion of an import: its shortcuts give the same text as the
per-value path, and its errors are the first in the file, as a row-by-row
reader would report them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from j1gitops.importers.columns import BadValue, field_entries, string_entries
from j1gitops.importers.datamodel import PropertyType
from j1gitops.importers.fields import Source, make_field
from j1gitops.importers.mapping import Mapping
from j1gitops.importers.table import BATCH_ROWS
from j1gitops.inventory.writer import Emitter, all_plain, format_string
from j1gitops.validation.dates import (
    InvalidDate,
    common_epoch_ms,
    parse_any_iso8601,
    parse_iso8601,
    to_epoch_ms,
)

SEED = 20261204
KINDS = {
    "string": PropertyType(frozenset({"string"})),
    "number": PropertyType(frozenset({"number"})),
    "integer": PropertyType(frozenset({"integer"})),
    "date": PropertyType(frozenset({"number"}), date_time=True),
    "boolean": PropertyType(frozenset({"boolean"})),
}


def field_of(kind):
    prop = f"{kind}Value"
    field = make_field(prop, Source(prop, (0,)), Mapping(), {prop: KINDS[kind]})
    assert field.kind == kind
    return field


def one_by_one(field, values):
    """The entries as ``Emitter.entry_text`` writes each converted value."""
    emitter = Emitter()
    entries = []
    for value in values:
        if value == "":
            entries.append("")
        else:
            typed = value if field.passthrough else field.convert(value)
            entries.append(emitter.entry_text(field.property, typed))
    return entries


def random_text(rng):
    pieces = [
        "yes", "No", "nO", "null", "~", "true", "On", "y", "abc", "ThinkPad X1",
        "host-01", "a:b", "a: b", "#", " ", ":", "-", "0", "01", "1.10", "1e5",
        "2024-01-05", "é", "\t", "@", "/", "_", ".", "x=1", "(1)", "+", ",", "'",
    ]  # fmt: skip
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))


def random_number(rng):
    shapes = [
        lambda: str(rng.randint(-(10**20), 10**20)),
        lambda: f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 17)}f}",
        lambda: f"{rng.uniform(-1, 1):.{rng.randint(0, 8)}f}",
        lambda: repr(rng.uniform(-1, 1) * 10 ** rng.randint(-8, 20)),
        lambda: "".join(rng.choice("-0123456789.") for _ in range(rng.randint(1, 18))),
    ]
    return rng.choice(shapes)()


def random_date(rng):
    moment = datetime(2000, 1, 1, tzinfo=timezone.utc) + timedelta(
        seconds=rng.randint(0, 10**9), microseconds=rng.randint(0, 999_999)
    )
    text = moment.isoformat(
        timespec=rng.choice(["seconds", "milliseconds", "microseconds"])
    )
    text = text.replace("+00:00", rng.choice(["Z", "+00:00", "-05:30", "+14:00"]))
    if rng.random() < 0.1:
        text = text.replace("-01T", "-31T").replace("-02-", "-02-3")
    return text


@pytest.mark.parametrize(
    ("kind", "make_value"),
    [
        ("string", random_text),
        ("number", random_number),
        ("integer", random_number),
        ("date", random_date),
    ],
)
def test_string_entries_match_entry_text(kind, make_value):
    rng = random.Random(SEED)
    field = field_of(kind)
    for _ in range(300):
        # Bad values are left out here; the error tests below cover them.
        values = [
            value
            for value in (make_value(rng) for _ in range(rng.randint(1, 40)))
            if converts(field, value)
        ]
        if values and rng.random() < 0.3:
            values[rng.randrange(len(values))] = ""
        assert string_entries(field, values, Emitter()) == one_by_one(field, values)


def converts(field, value):
    try:
        one_by_one(field, [value])
    except ValueError:
        return False
    return True


def test_string_entries_trim_decimal_zeros():
    field = field_of("number")
    values = [f"{n}.{n % 100:02d}" for n in range(1, 500)]
    entries = string_entries(field, values, Emitter())
    assert entries == one_by_one(field, values)
    assert entries[9] == "    numberValue: 10.1\n"  # 10.10 written as the float


def test_all_plain_only_plain_strings():
    rng = random.Random(SEED)
    for _ in range(3000):
        strings = [random_text(rng) for _ in range(rng.randint(1, 5))]
        if all_plain(strings):
            assert all(format_string(text) == text for text in strings), strings
            for text in strings:
                assert yaml.safe_load(f"key: {text}")["key"] == text


def test_all_plain_line_breaks():
    assert all_plain(["abc", "def"])
    assert not all_plain(["abc\ndef"])
    assert not all_plain(["abc", "yes"])
    assert all_plain([])


def test_parse_iso8601_fast_path():
    rng = random.Random(SEED)
    for _ in range(3000):
        text = random_date(rng)
        try:
            expected = parse_any_iso8601(text)
        except InvalidDate:
            with pytest.raises(InvalidDate):
                parse_iso8601(text)
            assert common_epoch_ms([text]) is None
            continue
        assert parse_iso8601(text) == expected
        converted = common_epoch_ms([text])
        assert converted is None or converted == [to_epoch_ms(text)]


def test_field_entries_mixed_json_values():
    field = field_of("number")
    entries = field_entries(field, [1, None, 2.5, "3.10"], Emitter())
    assert entries == [
        "    numberValue: 1\n",
        "",
        "    numberValue: 2.5\n",
        "    numberValue: 3.1\n",
    ]
    with pytest.raises(BadValue) as caught:
        field_entries(field, [1, 2, True], Emitter())
    assert caught.value.index == 2


# Rows far enough apart to fall in different batches.
LATE = BATCH_ROWS * 2 + 7


def devices(rows):
    lines = ["serial,cost,lastSeenOn"]
    lines += [f"S{i},{i}.5,2024-01-02" for i in range(rows)]
    return lines


def run_import(cli, tmp_path, lines):
    (tmp_path / "devices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cli(
        "import", "csv", "devices.csv", "--class", "Device", "--type", "acme_device",
        "--key", "serial", cwd=tmp_path,
    )  # fmt: skip


def line_of(row):
    return row + 2  # the header is line 1, row 0 is line 2


def test_import_reports_first_bad_row(cli, tmp_path):
    lines = devices(LATE + 10)
    lines[1 + LATE] = f"S{LATE},oops,2024-01-02"
    lines[1 + LATE - 3] = f"S{LATE - 3},1.5,not-a-date"
    result = run_import(cli, tmp_path, lines)
    assert result.exit_code == 1
    assert f"devices.csv:{line_of(LATE - 3)}:lastSeenOn:" in result.stderr
    assert "'not-a-date'" in result.stderr


def test_import_key_error_before_values(cli, tmp_path):
    lines = devices(LATE + 10)
    lines[1 + LATE] = ",oops,2024-01-02"
    result = run_import(cli, tmp_path, lines)
    assert result.exit_code == 1
    assert (
        f"devices.csv:{line_of(LATE)}:serial: column 'serial' is empty" in result.stderr
    )


def test_import_bad_value_before_duplicate(cli, tmp_path):
    lines = devices(LATE + 10)
    lines[1 + LATE] = "S1,1.5,2024-01-02"
    lines[1 + LATE - 1] = f"S{LATE - 1},1.5,2024-13-40"
    result = run_import(cli, tmp_path, lines)
    assert result.exit_code == 1
    assert f"devices.csv:{line_of(LATE - 1)}:lastSeenOn:" in result.stderr


def test_import_duplicate_across_batches(cli, tmp_path):
    lines = devices(LATE + 10)
    lines[1 + LATE] = "S1,1.5,2024-01-02"
    result = run_import(cli, tmp_path, lines)
    assert result.exit_code == 1
    assert f"devices.csv:{line_of(LATE)}:serial: duplicate _key 'S1'" in result.stderr
    assert f"first at devices.csv:{line_of(1)})" in result.stderr


def test_import_skips_blank_rows(cli, tmp_path):
    lines = devices(LATE)
    lines.insert(5, "  ,   ,  ")
    lines.insert(LATE, "   ")
    result = run_import(cli, tmp_path, lines)
    assert result.exit_code == 0, result.stderr
    entities = yaml.safe_load(result.stdout)["entities"]
    assert len(entities) == LATE
    assert entities[-1]["_key"] == f"S{LATE - 1}"
    assert entities[-1]["cost"] == LATE - 1 + 0.5


def test_import_set_pattern_without_columns(cli, tmp_path):
    lines = devices(3)
    (tmp_path / "devices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli(
        "import", "csv", "devices.csv", "--class", "Device", "--type", "acme_device",
        "--key", "serial", "--set", "name=a{{b}}", cwd=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    names = [entity["name"] for entity in yaml.safe_load(result.stdout)["entities"]]
    assert names == ["a{b}", "a{b}", "a{b}"]


@pytest.mark.parametrize(
    "later_line",
    ["S9,1,2024-01-02,extra", 'S9,"1"x,2024-01-02', 'S9,"1,2024-01-02'],
    ids=["wrong width", "bad quoting", "open quote"],
)
def test_import_bad_value_before_bad_row(cli, tmp_path, later_line):
    lines = devices(5)
    lines[2] = "S1,abc,2024-01-02"
    lines.append(later_line)
    result = run_import(cli, tmp_path, lines)
    assert result.exit_code == 1
    assert "devices.csv:3:cost: value 'abc'" in result.stderr


J1_ROWS = (
    "_key,_type,_class,cost\n"
    "laptop-0001,acme_laptop,Device,12\n"
    "laptop-0002,acme_laptop,Device,abc\n"
)


@pytest.mark.parametrize(
    "later_row",
    ["laptop-0003,,Device,1", "laptop-0003,acme_laptop,Devise,1"],
    ids=["empty _type", "unknown class"],
)
def test_import_j1_format_first_bad_row(cli, tmp_path, later_row):
    (tmp_path / "j1.csv").write_text(J1_ROWS + later_row + "\n", encoding="utf-8")
    result = cli("import", "csv", "j1.csv", cwd=tmp_path)
    assert result.exit_code == 1
    assert "j1.csv:3:cost: value 'abc'" in result.stderr


def test_import_relationship_key_surrogate(cli, tmp_path):
    (tmp_path / "m.yaml").write_text(
        "relationships:\n  - column: owner\n    verb: OWNS\n"
        "    direction: reverse\n    key: 'person:{owner}'\n"
    )
    (tmp_path / "a.json").write_text(
        '[{"id": "a1", "owner": "x\\ud800"}, {"id": "a2", "owner": "y"}]'
    )
    result = cli(
        "import", "json", "a.json", "--class", "Device", "--type", "acme_device",
        "--key", "id", "--mapping", "m.yaml", cwd=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: a.json:[0]:owner: the string")
    assert "lone surrogate" in result.stderr
