"""Every format the data-model schemas use rejects a bad value and accepts a good one,
in python-jsonschema and in jsonschema-rs alike."""

from __future__ import annotations

import jsonschema_rs
import pytest
from jsonschema import Draft7Validator

from j1gitops.validation import schemas
from j1gitops.validation.formats import FORMAT_CHECKER, FORMATS
from j1gitops.validation.patterns import ecma_search

# (format, valid values, invalid values)
CASES = [
    (
        "uri",
        ["https://example.com/a?b#c", "mailto:a@example.com", "urn:x:y"],
        ["not a uri", "/relative/path", "http://a b", "https://example.com/\n", ""],
    ),
    (
        "date-time",
        ["2024-01-31T12:00:00Z", "2024-01-31T12:00:00.5+02:00", "2016-12-31T23:59:60Z"],
        [
            "2024-01-31",
            "2024-02-30T00:00:00Z",
            "2024-01-31T25:00:00Z",
            "2024-01-31T12:00:00",
            "2024-01-31T12:00:00Z\n",
            "yesterday",
        ],
    ),
    (
        "ip",
        ["192.0.2.10", "2001:db8::10", "::ffff:192.0.2.1"],
        ["192.0.2.256", "2001:db8::g", "example.com", "192.0.2.10\n", "fe80::1%eth0"],
    ),
    (
        "ipv4",
        ["192.0.2.10", "0.0.0.0", "255.255.255.255"],
        ["192.0.2.256", "192.0.2", "01.2.3.4", "2001:db8::10", "1.2.3.4\n", "١.2.3.4"],
    ),
    (
        "ipv6",
        ["2001:db8::10", "::", "::1", "2001:0db8:0000:0000:0000:0000:0000:0001"],
        ["2001:db8:::1", "192.0.2.10", "fe80::1%eth0", "::1\n", "12345::"],
    ),
    (
        "email",
        ["alice@example.com", "a.b+tag@sub.example.org"],
        [
            "alice",
            "alice@",
            "alice@example",
            "a b@example.com",
            "@example.com",
            "alice@example.com\n",
            "alice@exa_mple.com",
        ],
    ),
    (
        "hostname",
        ["example.com", "web-1", "a.b.c.example.com."],
        [
            "-web.example.com",
            "web_1.example.com",
            "a" * 64 + ".com",
            "",
            "a..b",
            "web.example.com\n",
        ],
    ),
    (
        "ipCidr",
        ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32", "2001:db8::1/64"],
        [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/08",
            "2001:db8::/129",
            "x/8",
            "2001:db8::1",
            "10.0.0.0/8\n",
        ],
    ),
    (
        "asn",
        ["AS13335", "AS12", "AS123456"],
        ["AS1", "AS1234567", "as13335", "13335", "AS13335\n", "AS١٢"],
    ),
]


def schema_formats() -> set[str]:
    """Return every ``format`` keyword value in the generated class schemas."""
    found: set[str] = set()
    stack: list = [schemas.class_schema(name) for name in schemas.class_names()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_every_schema_format_has_a_check():
    assert schema_formats() <= set(FORMATS)


def test_every_check_has_cases():
    assert {name for name, _, _ in CASES} == set(FORMATS)


def _both(format_name: str):
    schema = {"type": "string", "format": format_name}
    python = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    rust = jsonschema_rs.Draft7Validator(
        schema, formats=FORMATS, validate_formats=True, ignore_unknown_formats=False
    )
    return python, rust


@pytest.mark.parametrize(
    ("format_name", "value"),
    [(name, value) for name, good, _ in CASES for value in good],
)
def test_format_accepts_good_value(format_name, value):
    python, rust = _both(format_name)
    assert python.is_valid(value)
    assert rust.is_valid(value)


@pytest.mark.parametrize(
    ("format_name", "value"),
    [(name, value) for name, _, bad in CASES for value in bad],
)
def test_format_rejects_bad_value(format_name, value):
    python, rust = _both(format_name)
    assert not python.is_valid(value)
    assert not rust.is_valid(value)


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_format_ignores_non_strings(format_name):
    for value in (1700000000000, 1.5, True, None, ["x"]):
        assert FORMATS[format_name](value)


def test_date_time_on_number_is_no_op():
    schema = {"type": "number", "format": "date-time"}
    python = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    rust = jsonschema_rs.Draft7Validator(schema, formats=FORMATS, validate_formats=True)
    for value in (1700000000000, -5.5, 0):
        assert python.is_valid(value)
        assert rust.is_valid(value)


PATTERN_CASES = [
    (r"^CVE-\d{4}-\d{4,}$", "CVE-2024-1234", True),
    (r"^CVE-\d{4}-\d{4,}$", "CVE-2024-1234\n", False),
    (r"^CVE-\d{4}-\d{4,}$", "CVE-٢٠٢٤-1234", False),
    (r"^CWE-\d+$", "CWE-79", True),
    (r"^([0-9a-f]{2}:){5}([0-9a-f]{2})$", "00:1a:2b:3c:4d:5e", True),
    (r"^([0-9a-f]{2}:){5}([0-9a-f]{2})$", "00:1A:2B:3C:4D:5E", False),
    (
        r"(?=^.{4,253}$)(^((?!-)[a-zA-Z0-9-]{0,62}[a-zA-Z0-9]\.)+[a-zA-Z]{2,63}$)",
        "www.example.com",
        True,
    ),
    (
        r"(?=^.{4,253}$)(^((?!-)[a-zA-Z0-9-]{0,62}[a-zA-Z0-9]\.)+[a-zA-Z]{2,63}$)",
        "www.example.com\n",
        False,
    ),
    (r"^(_|tag\.)?[A-Za-z0-9. -]+$", "myProp\n", False),
    (r"^(_|tag\.)?[A-Za-z0-9. -]+$", "tag.Env", True),
    (r"^a.c$", "a\rc", False),
    (r"^a.c$", "abc", True),
    (r"^a\sc$", "a\u00a0c", True),
    (r"^[\d]+$", "١٢", False),
    (r"^a\.b$", "a.b", True),
    (r"^a\.b$", "axb", False),
    (r"^[$]$", "$", True),
]


@pytest.mark.parametrize(("pattern", "text", "expected"), PATTERN_CASES)
def test_pattern_has_ecmascript_meaning(pattern, text, expected):
    rust = jsonschema_rs.Draft7Validator({"type": "string", "pattern": pattern})
    assert ecma_search(pattern, text) is expected
    assert rust.is_valid(text) is expected
