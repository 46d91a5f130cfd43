"""Credentials and URLs for the JupiterOne target, read from the environment only.

The API key and account id come from environment variables, never from a file
in the repository, and so do custom URLs. A pull request can therefore change
neither where the key is sent nor which account is written. Plain ``http`` is
accepted only for loopback hosts (the local emulator).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from j1gitops.errors import ConfigError, CredentialsError, UsageError

# The variables that contain the API key. The first one set wins.
from j1gitops.secrets import KEY_VARIABLES

# J1_ACCOUNT (jupiterone-client-go examples), JUPITERONE_ACCOUNT_ID (Terraform
# provider, MCP server), JUPITERONE_ACCOUNT (integration SDK CLI).
ACCOUNT_VARIABLES = (
    "J1_ACCOUNT_ID",
    "J1_ACCOUNT",
    "JUPITERONE_ACCOUNT_ID",
    "JUPITERONE_ACCOUNT",
)
# JUPITERONE_REGION is the Terraform provider's name.
REGION_VARIABLES = ("J1_REGION", "JUPITERONE_REGION")
API_BASE_URL_VARIABLE = "J1_API_BASE_URL"
GRAPHQL_URL_VARIABLE = "J1_GRAPHQL_URL"

# J1 documents only these two regions; the host names are built from them.
REGIONS = ("us", "eu")
DEFAULT_REGION = "us"

# Keys of a configuration file that would name a host to send the key to.
_URL_KEY_SUFFIXES = ("url", "uri", "endpoint", "host")


@dataclass(frozen=True)
class Settings:
    """The URLs, account id and API key that the JupiterOne target connects with.

    ``api_key`` is left out of ``repr`` so that it never reaches a log or a
    traceback by way of this object.
    """

    account_id: str
    api_key: str = field(repr=False)
    graphql_url: str = "https://graphql.us.jupiterone.io"
    api_base_url: str = "https://api.us.jupiterone.io"
    # The variables the key and account came from, named in error messages.
    key_variable: str = KEY_VARIABLES[0]
    account_variable: str = ACCOUNT_VARIABLES[0]

    def __post_init__(self) -> None:
        check_credential(self.api_key, self.key_variable, "API key")
        check_credential(self.account_id, self.account_variable, "account id")
        check_url(self.api_base_url, API_BASE_URL_VARIABLE)
        check_url(self.graphql_url, GRAPHQL_URL_VARIABLE)

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        api_base_url: str | None = None,
        graphql_url: str | None = None,
    ) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``).

        ``api_base_url`` and ``graphql_url`` come from command-line flags and win
        over the environment. Raises ``CredentialsError`` when the key or the
        account is missing or cannot be sent in an HTTP header, and
        ``UsageError`` for a bad region, URL or combination of URLs.
        """
        environ = os.environ if environ is None else environ
        key_variable, api_key = _first_set(environ, KEY_VARIABLES)
        account_variable, account_id = _first_set(environ, ACCOUNT_VARIABLES)
        if not api_key:
            raise CredentialsError(
                "no JupiterOne API key is set: set J1_API_KEY to an API key of the "
                "account (J1_API_TOKEN and JUPITERONE_API_KEY are read too)"
            )
        if not account_id:
            raise CredentialsError(
                "no JupiterOne account id is set: set J1_ACCOUNT_ID to the id of "
                "the account the API key belongs to"
            )
        api_url, graph_url = resolve_urls(environ, api_base_url, graphql_url)
        return cls(
            account_id=account_id.strip(),
            api_key=api_key.strip(),
            graphql_url=graph_url,
            api_base_url=api_url,
            key_variable=key_variable,
            account_variable=account_variable,
        )


def _first_set(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str]:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return names[0], ""


def resolve_urls(
    environ: Mapping[str, str],
    api_base_url: str | None = None,
    graphql_url: str | None = None,
) -> tuple[str, str]:
    """Return the sync API base URL and the GraphQL URL, both checked.

    A custom base URL without a GraphQL URL serves GraphQL at ``<base>/graphql``,
    the form J1's Node and Go clients use against ``api.<region>.jupiterone.io``.
    A custom GraphQL URL without a base URL raises ``UsageError``, because plans
    would then read one host while applies send sync jobs to J1's default host.
    """
    _, region = _first_set(environ, REGION_VARIABLES)
    region = (region or DEFAULT_REGION).lower()
    if region not in REGIONS:
        raise UsageError(
            f"J1_REGION is {region!r}, which is not a JupiterOne region: "
            f"set it to one of {', '.join(REGIONS)}"
        )
    base = api_base_url or environ.get(API_BASE_URL_VARIABLE, "").strip()
    graph = graphql_url or environ.get(GRAPHQL_URL_VARIABLE, "").strip()
    if graph and not base:
        raise UsageError(
            f"{GRAPHQL_URL_VARIABLE} is set but {API_BASE_URL_VARIABLE} is not, so "
            f"apply would send sync jobs to https://api.{region}.jupiterone.io: set "
            f"both, or set only {API_BASE_URL_VARIABLE} (GraphQL is then read at "
            "<base URL>/graphql)"
        )
    if not base:
        return (
            f"https://api.{region}.jupiterone.io",
            f"https://graphql.{region}.jupiterone.io",
        )
    base = check_url(base, API_BASE_URL_VARIABLE)
    if graph:
        return base, check_url(graph, GRAPHQL_URL_VARIABLE)
    return base, base + "/graphql"


def check_credential(value: str, variable: str, description: str) -> str:
    """Return ``value``, or raise ``CredentialsError`` if it cannot go in a header.

    A key or account id must be printable ASCII without spaces, so that it
    passes requests' header validation and Latin-1 encoding unchanged. The
    message names ``variable`` and the position of the first bad character,
    never the value.
    """
    if not value:
        raise CredentialsError(f"{variable} is empty: set it to the {description}")
    for position, char in enumerate(value, start=1):
        problem = _credential_problem(char)
        if problem:
            raise CredentialsError(
                f"{variable} contains {problem} at position {position}, which "
                f"cannot be sent in an HTTP header: set it to the {description} "
                "alone, without spaces, line breaks or non-ASCII characters"
            )
    return value


def _credential_problem(char: str) -> str | None:
    code = ord(char)
    if code > 0x7E:
        return "a non-ASCII character" if code > 0x7F else "a control character"
    if char in "\r\n":
        return "a line break"
    if code < 0x20:
        return "a control character"
    if char == " ":
        return "a space"
    return None


def is_loopback_host(host: str) -> bool:
    """Return whether ``host`` names this machine: localhost or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, variable: str) -> str:
    """Return ``url`` without a trailing slash, or raise ``UsageError``.

    The URL must be ``https``, or ``http`` to a loopback host, and must not carry
    a user name, password, query, fragment, whitespace, control character or
    backslash. An explicit port must be 1-65535.
    """
    parts = urlsplit(url)
    problem = None
    if any(char.isspace() or not char.isprintable() or char == "\\" for char in url):
        # urlsplit drops tabs and line breaks silently, and WHATWG URL parsers
        # (browsers, Node) read a backslash as "/" where urlsplit does not.
        problem = "contains whitespace, a control character or a backslash"
    elif parts.scheme not in ("https", "http") or not parts.hostname:
        problem = "is not an http(s) URL with a host"
    elif parts.username is not None or parts.password is not None:
        problem = "contains a user name or password"
    elif parts.query or parts.fragment:
        problem = "contains a query or fragment"
    elif parts.scheme == "http" and not is_loopback_host(parts.hostname):
        problem = "uses plain http to a host that is not loopback"
    elif not _has_valid_port(parts):
        problem = "has a port that is not a number from 1 to 65535"
    if problem:
        raise UsageError(
            f"{variable} {problem}: use https://HOST, or http://127.0.0.1:PORT "
            "for the local emulator"
        )
    return url.rstrip("/")


def _has_valid_port(parts: SplitResult) -> bool:
    try:
        port = parts.port
    except ValueError:  # not a number, or outside 0-65535
        return False
    return port is None or port > 0


def reject_file_urls(values: Mapping, path: str) -> None:
    """Raise ``ConfigError`` when a configuration file tries to set a URL or host.

    Custom URLs may come only from the environment or the command line, so that
    a change to a file in the repository cannot send the API key elsewhere.
    """
    for location in _url_keys(values, ()):
        raise ConfigError(
            f"{path}: {'.'.join(location)} sets a URL, but J1 URLs are read only "
            f"from the environment: remove it and set {API_BASE_URL_VARIABLE} or "
            f"{GRAPHQL_URL_VARIABLE} instead"
        )


def _url_keys(values: object, location: tuple[str, ...]):
    if isinstance(values, Mapping):
        for key, value in values.items():
            key_path = (*location, str(key))
            if str(key).lower().replace("-", "_").endswith(_URL_KEY_SUFFIXES):
                yield key_path
            yield from _url_keys(value, key_path)
    elif isinstance(values, list):
        for index, item in enumerate(values):
            yield from _url_keys(item, (*location, str(index)))
