"""Format checks for every ``format`` that the data model's schemas use.

The same functions serve python-jsonschema (``FORMAT_CHECKER``) and jsonschema-rs
(``FORMATS``), so both validators accept exactly the same values. Each check
returns True for a value that is not a string, as JSON Schema formats only
constrain strings: ``format: date-time`` on the data model's epoch-millisecond
numbers therefore checks nothing.

The definitions follow what J1's tooling registers with ajv: ajv-formats
(full mode) for ``date-time``, ``email``, ``hostname``, ``ipv4``, ``ipv6`` and
``uri``, and the data model's ``registerFormats`` for ``ip``, ``ipCidr`` and
``asn``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date, time
from typing import Any

from jsonschema import FormatChecker
from rfc3986_validator import validate_rfc3986

# ajv-formats' full-mode email pattern, matched case-insensitively and ASCII-only.
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    re.IGNORECASE | re.ASCII,
)
_HOSTNAME_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.I | re.ASCII)
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|[+-](\d{2}):(\d{2}))",
    re.ASCII,
)
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
_ASN = re.compile(r"AS[0-9]{2,6}")
_PREFIX = re.compile(r"0|[1-9][0-9]{0,2}")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _string_check(check: Callable[[str], bool]) -> Callable[[Any], bool]:
    def checker(value: Any) -> bool:
        return not isinstance(value, str) or check(value)

    checker.__name__ = check.__name__
    checker.__doc__ = check.__doc__
    return checker


@_string_check
def is_ipv4(value: str) -> bool:
    """Check an IPv4 address in dotted decimal without leading zeros, as ajv-formats
    and Node's net.isIPv4 require."""
    return _IPV4.fullmatch(value) is not None


@_string_check
def is_ipv6(value: str) -> bool:
    """Check an RFC 4291 IPv6 address. Zone ids such as ``%eth0`` are rejected, as
    by ajv-formats."""
    if "%" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


@_string_check
def is_ip(value: str) -> bool:
    """Check an IPv4 or IPv6 address (J1's own ``ip`` format)."""
    return is_ipv4(value) or is_ipv6(value)


@_string_check
def is_ip_cidr(value: str) -> bool:
    """Check an IPv4 or IPv6 address with a prefix length, such as ``10.0.0.0/8``.

    Host bits may be set (``10.1.2.3/8`` passes), as in J1's regexes.
    """
    # NOTE: J1's ipCidr regexes reject compressed IPv6 addresses that have host
    # bits (2001:db8::1/64) and accept a bare IPv6 address without a prefix. This
    # check accepts the former and rejects the latter.
    address, slash, prefix = value.partition("/")
    if not slash or not _PREFIX.fullmatch(prefix):
        return False
    if not (is_ipv4(address) or is_ipv6(address)):
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


@_string_check
def is_asn(value: str) -> bool:
    """Check an autonomous system number such as ``AS13335`` (2 to 6 digits)."""
    return _ASN.fullmatch(value) is not None


@_string_check
def is_email(value: str) -> bool:
    """Check an email address against ajv-formats' full-mode email pattern."""
    return _EMAIL.fullmatch(value) is not None


@_string_check
def is_hostname(value: str) -> bool:
    """Check an RFC 1123 host name: at most 253 characters, an optional final dot."""
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > 253:
        return False
    return all(_HOSTNAME_LABEL.fullmatch(label) for label in name.split("."))


@_string_check
def is_uri(value: str) -> bool:
    """Check an absolute RFC 3986 URI. A scheme is required, and spaces and control
    characters are rejected."""
    if _CONTROL.search(value):
        return False
    return bool(validate_rfc3986(value, rule="URI"))


@_string_check
def is_date_time(value: str) -> bool:
    """Check an RFC 3339 date-time: a real calendar date, a time and an offset."""
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        date(year, month, day)
        # RFC 3339 allows a leap second, 60; datetime.time does not.
        time(hour, minute, min(second, 59))
    except ValueError:
        return False
    offset_hour, offset_minute = match.group(9), match.group(10)
    if offset_hour is not None and (int(offset_hour) > 23 or int(offset_minute) > 59):
        return False
    return second <= 60


FORMATS: dict[str, Callable[[Any], bool]] = {
    "asn": is_asn,
    "date-time": is_date_time,
    "email": is_email,
    "hostname": is_hostname,
    "ip": is_ip,
    "ipCidr": is_ip_cidr,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "uri": is_uri,
}


def format_checker() -> FormatChecker:
    """Build a python-jsonschema FormatChecker with exactly the checks in ``FORMATS``."""
    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return checker


FORMAT_CHECKER = format_checker()
