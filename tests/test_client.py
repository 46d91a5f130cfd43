"""The J1 settings and HTTP client, against the emulator over real HTTP.

Tests of hostile replies use a small HTTP server on 127.0.0.1 that echoes the
API key from the Authorization header back in its replies.
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

import emulator_fixture
import pytest

from j1gitops.errors import (
    ApiError,
    ConfigError,
    CredentialsError,
    TargetError,
    UsageError,
)
from j1gitops.targets.base import DesiredState
from j1gitops.targets.jupiterone import JupiterOneTarget
from j1gitops.targets.jupiterone.client import ApiClient
from j1gitops.targets.jupiterone.settings import Settings, reject_file_urls

j1_emulator = emulator_fixture.j1_emulator
j1_emulator_factory = emulator_fixture.j1_emulator_factory

QUERY = "query($query: String!) { queryV1(query: $query) { type data cursor } }"
JOBS = "/persister/synchronization/jobs"


def client_for(handle, **options) -> ApiClient:
    settings = Settings.from_environment(handle.env)
    return ApiClient(settings, **{**emulator_fixture.FAST_CLIENT, **options})


def query(client) -> dict:
    return client.graphql(QUERY, {"query": "FIND *"})


# Settings


def test_settings_defaults_to_us():
    settings = Settings.from_environment({"J1_API_KEY": "key", "J1_ACCOUNT_ID": "acct"})
    assert settings.graphql_url == "https://graphql.us.jupiterone.io"
    assert settings.api_base_url == "https://api.us.jupiterone.io"


def test_settings_eu_region():
    environ = {"J1_API_KEY": "key", "J1_ACCOUNT_ID": "acct", "J1_REGION": "EU"}
    settings = Settings.from_environment(environ)
    assert settings.graphql_url == "https://graphql.eu.jupiterone.io"
    assert settings.api_base_url == "https://api.eu.jupiterone.io"


def test_settings_bad_region():
    environ = {"J1_API_KEY": "key", "J1_ACCOUNT_ID": "acct", "J1_REGION": "mars"}
    with pytest.raises(UsageError, match="J1_REGION is 'mars'.*one of us, eu"):
        Settings.from_environment(environ)


@pytest.mark.parametrize(
    ("environ", "key_variable", "account_variable"),
    [
        ({"J1_API_TOKEN": "k", "J1_ACCOUNT": "a"}, "J1_API_TOKEN", "J1_ACCOUNT"),
        (
            {"JUPITERONE_API_KEY": "k", "JUPITERONE_ACCOUNT_ID": "a"},
            "JUPITERONE_API_KEY",
            "JUPITERONE_ACCOUNT_ID",
        ),
        (
            {"JUPITERONE_API_TOKEN": "k", "JUPITERONE_ACCOUNT": "a"},
            "JUPITERONE_API_TOKEN",
            "JUPITERONE_ACCOUNT",
        ),
    ],
)
def test_settings_names_of_j1_tools(environ, key_variable, account_variable):
    settings = Settings.from_environment(environ)
    assert (settings.api_key, settings.account_id) == ("k", "a")
    assert settings.key_variable == key_variable
    assert settings.account_variable == account_variable


def test_settings_own_names_win():
    environ = {"J1_API_KEY": "mine", "J1_API_TOKEN": "theirs", "J1_ACCOUNT_ID": "a"}
    assert Settings.from_environment(environ).api_key == "mine"


def test_settings_missing_key_and_account():
    with pytest.raises(CredentialsError, match="set J1_API_KEY"):
        Settings.from_environment({"J1_ACCOUNT_ID": "acct"})
    with pytest.raises(CredentialsError, match="set J1_ACCOUNT_ID"):
        Settings.from_environment({"J1_API_KEY": "key"})


def test_settings_repr_hides_key():
    settings = Settings.from_environment(
        {"J1_API_KEY": "sekrit-value", "J1_ACCOUNT_ID": "a"}
    )
    assert "sekrit-value" not in repr(settings)


def test_settings_base_url_gives_graphql_path():
    environ = {
        "J1_API_KEY": "k",
        "J1_ACCOUNT_ID": "a",
        "J1_API_BASE_URL": "http://127.0.0.1:8080/",
    }
    settings = Settings.from_environment(environ)
    assert settings.api_base_url == "http://127.0.0.1:8080"
    assert settings.graphql_url == "http://127.0.0.1:8080/graphql"


def test_settings_flags_win_over_environment():
    environ = {
        "J1_API_KEY": "k",
        "J1_ACCOUNT_ID": "a",
        "J1_API_BASE_URL": "https://x.example",
    }
    settings = Settings.from_environment(
        environ, api_base_url="http://localhost:1", graphql_url="http://[::1]:2/"
    )
    assert settings.api_base_url == "http://localhost:1"
    assert settings.graphql_url == "http://[::1]:2"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com", "uses plain http to a host that is not loopback"),
        ("http://10.0.0.1:8080", "uses plain http to a host that is not loopback"),
        ("https://user:pw@j1.example", "contains a user name or password"),
        ("https://j1.example/?next=x", "contains a query or fragment"),
        ("ftp://j1.example", "is not an http(s) URL with a host"),
        ("127.0.0.1:8080", "is not an http(s) URL with a host"),
    ],
)
def test_settings_rejects_unsafe_urls(url, problem):
    environ = {"J1_API_KEY": "k", "J1_ACCOUNT_ID": "a", "J1_API_BASE_URL": url}
    with pytest.raises(UsageError, match=re.escape(f"J1_API_BASE_URL {problem}")):
        Settings.from_environment(environ)


def test_settings_accepts_private_https_tenant():
    environ = {
        "J1_API_KEY": "k",
        "J1_ACCOUNT_ID": "a",
        "J1_API_BASE_URL": "https://api.tenant.example",
        "J1_GRAPHQL_URL": "https://graphql.tenant.example",
    }
    settings = Settings.from_environment(environ)
    assert settings.graphql_url == "https://graphql.tenant.example"


def test_reject_file_urls():
    reject_file_urls({"scope": "s", "target": {"name": "jupiterone"}}, "j1gitops.yaml")
    with pytest.raises(
        ConfigError, match=r"j1gitops.yaml: target.api_base_url sets a URL"
    ):
        reject_file_urls(
            {"target": {"api_base_url": "https://evil.example"}}, "j1gitops.yaml"
        )
    with pytest.raises(ConfigError, match=r"targets.0.graphql-url sets a URL"):
        reject_file_urls({"targets": [{"graphql-url": "x"}]}, "j1gitops.yaml")


BAD_CHARACTERS = [
    ("\n", "a line break"),
    ("\r", "a line break"),
    ("\t", "a control character"),
    ("\x00", "a control character"),
    ("\x7f", "a control character"),
    (" ", "a space"),
    ("\u00e9", "a non-ASCII character"),
    ("\u0100", "a non-ASCII character"),
]


@pytest.mark.parametrize(("char", "problem"), BAD_CHARACTERS)
@pytest.mark.parametrize("variable", ["J1_API_KEY", "J1_ACCOUNT_ID"])
def test_settings_rejects_bad_credential_characters(variable, char, problem):
    environ = {"J1_API_KEY": "sekrit-KEY", "J1_ACCOUNT_ID": "acct-1"}
    environ[variable] = f"sekrit{char}VALUE"
    with pytest.raises(CredentialsError) as caught:
        Settings.from_environment(environ)
    message = str(caught.value)
    assert message.startswith(f"{variable} contains {problem} at position 7,")
    assert "sekrit" not in message
    assert "VALUE" not in message
    assert "\n" not in message


def test_settings_constructor_checks_credentials():
    with pytest.raises(CredentialsError, match="^J1_API_KEY contains a line break"):
        Settings(account_id="acct", api_key="sekrit\nKEY")
    with pytest.raises(CredentialsError, match="^J1_ACCOUNT contains a non-ASCII"):
        Settings(account_id="acct\u0100", api_key="k", account_variable="J1_ACCOUNT")


def test_settings_strips_surrounding_whitespace():
    environ = {"J1_API_KEY": " sekrit-KEY\n", "J1_ACCOUNT_ID": "\tacct-1 "}
    settings = Settings.from_environment(environ)
    assert settings.api_key == "sekrit-KEY"
    assert settings.account_id == "acct-1"


@pytest.mark.parametrize(
    "flags",
    [{}, {"graphql_url": "http://127.0.0.1:8080/graphql"}],
)
def test_settings_graphql_url_needs_base_url(flags):
    environ = {"J1_API_KEY": "k", "J1_ACCOUNT_ID": "a"}
    if not flags:
        environ["J1_GRAPHQL_URL"] = "http://127.0.0.1:8080/graphql"
    with pytest.raises(UsageError) as caught:
        Settings.from_environment(environ, **flags)
    message = str(caught.value)
    assert message.startswith("J1_GRAPHQL_URL is set but J1_API_BASE_URL is not")
    assert "https://api.us.jupiterone.io" in message
    assert "set both, or set only J1_API_BASE_URL" in message


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "abc"])
@pytest.mark.parametrize("variable", ["J1_API_BASE_URL", "J1_GRAPHQL_URL"])
def test_settings_rejects_bad_ports(variable, port):
    environ = {
        "J1_API_KEY": "k",
        "J1_ACCOUNT_ID": "a",
        "J1_API_BASE_URL": "http://127.0.0.1:8080",
        variable: f"http://127.0.0.1:{port}",
    }
    expected = f"{variable} has a port that is not a number from 1 to 65535"
    with pytest.raises(UsageError, match=re.escape(expected)):
        Settings.from_environment(environ)


def test_settings_accepts_port_bounds():
    environ = {
        "J1_API_KEY": "k",
        "J1_ACCOUNT_ID": "a",
        "J1_API_BASE_URL": "http://127.0.0.1:65535",
        "J1_GRAPHQL_URL": "http://127.0.0.1:1/graphql",
    }
    settings = Settings.from_environment(environ)
    assert settings.api_base_url == "http://127.0.0.1:65535"
    assert settings.graphql_url == "http://127.0.0.1:1/graphql"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/gra\nphql",
        "http://127.0.0.1:8080/\r\nX-Injected: 1",
        "http://127.0.0.1:8080/a b",
        "http://evil.example\\@127.0.0.1:8080",
        "http://127.0.0.1:8080\\evil.example",
    ],
)
def test_settings_rejects_unsafe_url_characters(url):
    environ = {"J1_API_KEY": "k", "J1_ACCOUNT_ID": "a", "J1_API_BASE_URL": url}
    expected = "J1_API_BASE_URL contains whitespace, a control character or a backslash"
    with pytest.raises(UsageError, match=re.escape(expected)):
        Settings.from_environment(environ)


# Requests


def test_graphql_query(j1_emulator):
    client = client_for(j1_emulator)
    assert query(client)["queryV1"]["type"] == "list"


def test_graphql_error_becomes_api_error(j1_emulator):
    client = client_for(j1_emulator)
    with pytest.raises(ApiError) as caught:
        client.graphql(QUERY, {"query": "FIND Person RETURN nope.x"})
    error = caught.value
    assert error.status == 200
    assert error.code == "BAD_USER_INPUT"
    assert error.method == "POST"
    assert error.url == j1_emulator.graphql_url
    assert "the selector 'nope' is not defined" in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    "spec",
    [
        "rate-limit:nth=1+2,retry-after=1",
        "rate-limit:nth=1+2",
        "rate-limit-200:nth=1+2",
        "server-error:nth=1+2,status=502",
        "server-error:nth=1+2,status=503",
        "server-error:nth=1+2,status=504",
        "drop:nth=1+2",
        "drop-after:nth=1+2",
    ],
)
def test_retried_faults(j1_emulator, spec, caplog):
    j1_emulator.set_faults(spec)
    client = client_for(j1_emulator)
    with caplog.at_level(logging.INFO, logger="j1gitops"):
        assert query(client)["queryV1"]["type"] == "list"
    assert j1_emulator.request_count == 3
    retries = [
        r for r in caplog.records if r.getMessage().startswith("retrying POST /graphql")
    ]
    assert len(retries) == 2


def test_retry_after_is_honoured(j1_emulator):
    j1_emulator.set_faults("rate-limit:nth=1,retry-after=1")
    client = client_for(j1_emulator)
    started = time.monotonic()
    query(client)
    assert time.monotonic() - started >= 1.0


def test_rate_limit_exhausts_retries(j1_emulator):
    j1_emulator.set_faults("rate-limit")
    client = client_for(j1_emulator, retries=2)
    with pytest.raises(ApiError) as caught:
        query(client)
    assert caught.value.status == 429
    assert "wait a few minutes and run again" in str(caught.value)
    assert j1_emulator.request_count == 3


def test_rate_limit_200_exhausts_retries(j1_emulator):
    j1_emulator.set_faults("rate-limit-200")
    client = client_for(j1_emulator, retries=2)
    with pytest.raises(ApiError, match="kept rate-limiting POST") as caught:
        query(client)
    assert caught.value.code == "RATE_LIMITED"


def test_server_error_500_is_not_retried(j1_emulator):
    j1_emulator.set_faults("server-error:status=500,path=/persister")
    client = client_for(j1_emulator)
    with pytest.raises(ApiError) as caught:
        client.sync_post(JOBS, {"source": "api", "scope": "s"})
    error = caught.value
    assert (error.status, error.code, error.method) == (
        500,
        "INTERNAL_SERVER_ERROR",
        "POST",
    )
    assert error.url == j1_emulator.url + JOBS
    assert str(error) == (
        f"J1 request POST {j1_emulator.url}{JOBS} failed with HTTP 500 "
        "INTERNAL_SERVER_ERROR: Injected server error; J1 had a server error; "
        "run again later"
    )
    assert j1_emulator.request_count == 1


def test_sync_error_body_is_carried(j1_emulator):
    client = client_for(j1_emulator)
    with pytest.raises(ApiError) as caught:
        client.sync_post(JOBS, {"source": "api", "syncMode": "DIFF"})
    assert caught.value.status == 400
    assert caught.value.code == "MISSING_SCOPE"
    assert "scope is required when syncMode is DIFF" in str(caught.value)


def test_slow_reply_times_out(j1_emulator):
    j1_emulator.set_faults("slow:delay=1.5")
    client = client_for(j1_emulator, read_timeout=0.3, retries=1)
    with pytest.raises(ApiError, match=r"POST .*/graphql timed out after retries"):
        query(client)


def test_connection_refused_is_one_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {
        "J1_API_KEY": "k" * 20,
        "J1_ACCOUNT_ID": "a",
        "J1_API_BASE_URL": f"http://127.0.0.1:{port}",
    }
    client = ApiClient(
        Settings.from_environment(environ), **emulator_fixture.FAST_CLIENT, retries=1
    )
    with pytest.raises(ApiError) as caught:
        query(client)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"J1 request POST http://127.0.0.1:{port}/graphql failed")
    assert "check the network connection and the J1 URL" in message


@pytest.mark.parametrize("variable", ["J1_API_KEY", "JUPITERONE_API_KEY"])
def test_rejected_key_names_the_variable(j1_emulator, variable):
    environ = {**j1_emulator.env, "J1_API_KEY": "", variable: "wrong-key-0123456789"}
    client = ApiClient(Settings.from_environment(environ))
    with pytest.raises(CredentialsError) as caught:
        query(client)
    message = str(caught.value)
    assert (
        f"set {variable} to a valid API key and J1_ACCOUNT_ID to its account id"
        in message
    )
    assert "HTTP 401" in message
    assert "wrong-key-0123456789" not in message


def test_each_request_logs_one_line_without_key(j1_emulator, caplog, capsys):
    client = client_for(j1_emulator)
    with caplog.at_level(logging.DEBUG):
        query(client)
        client.sync_post(JOBS, {"source": "api", "scope": "s"})
    lines = [
        r.getMessage() for r in caplog.records if r.name.startswith("j1gitops.targets")
    ]
    assert len(lines) == 2
    assert lines[0].startswith("POST /graphql 200 ")
    assert lines[0].endswith("ms")
    assert lines[1].startswith(f"POST {JOBS} 200 ")
    captured = capsys.readouterr()
    everything = caplog.text + captured.out + captured.err
    assert j1_emulator.api_key not in everything


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):
        self.seen.append(dict(self.headers))
        body = b'{"status": "COMPLETED", "data": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_deferred_download_sends_no_credentials(j1_emulator):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = client_for(j1_emulator)
        port = server.server_address[1]
        url = f"http://127.0.0.1:{port}/state.json?X-Amz-Signature=abc"
        assert client.fetch_unauthenticated(url)["status"] == "COMPLETED"
    finally:
        server.shutdown()
        server.server_close()
    (sent,) = _RecordingHandler.seen
    assert "Authorization" not in sent
    assert "JupiterOne-Account" not in sent


def test_deferred_download_rejects_remote_http(j1_emulator):
    client = client_for(j1_emulator)
    with pytest.raises(ApiError, match="neither https nor http to a loopback host"):
        client.fetch_unauthenticated("http://download.example/state.json?sig=x")


# A server that echoes the key back. Every message, progress line and log line
# must show it redacted, in each form a server might encode it.

# Contains "/", "+", "=", a quote and a backslash, so that its repr, JSON and
# URL-encoded forms all differ from the raw key.
ECHO_KEY = 'sekrit-KEY/123+456="x\\y'
# Contains only characters that a sync job id may have.
PLAIN_KEY = "sekrit-KEY-123456"
KEY_FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda key: key,
    "repr": lambda key: repr(key)[1:-1],
    "json": lambda key: json.dumps(key)[1:-1],
    "url": lambda key: quote(key, safe=""),
    "url-plus": quote_plus,
}
# Replies: (status, reason, body); a body that is not bytes is sent as JSON.
Reply = tuple[int, str | None, object]


def assert_no_key(text: str, key: str = ECHO_KEY) -> None:
    for name, encode in KEY_FORMS.items():
        assert encode(key) not in text, f"the {name} form of the key is in {text!r}"
    assert "sekrit" not in text


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers each request with ``server.reply(method, path, key)``."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.server.seen.append((self.command, self.path))
        status, reason, body = self.server.reply(self.command, self.path, key)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@contextmanager
def echo_server(reply: Callable[[str, str, str], Reply]) -> Iterator:
    """Serve ``reply`` on a free port of 127.0.0.1; yield the server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.reply = reply
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def echo_environ(server, key: str = ECHO_KEY) -> dict[str, str]:
    return {
        "J1_API_KEY": key,
        "J1_ACCOUNT_ID": "acct-1",
        "J1_API_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}",
    }


def echo_client(server, key: str = ECHO_KEY, **options) -> ApiClient:
    settings = Settings.from_environment(echo_environ(server, key))
    return ApiClient(settings, **{**emulator_fixture.FAST_CLIENT, **options})


@pytest.mark.parametrize("form", KEY_FORMS)
def test_echoed_key_redacted_in_sync_error(form, caplog):
    def reply(method, path, key):
        echoed = KEY_FORMS[form](key)
        error = {"code": f"BAD_{echoed}", "message": f"invalid key {echoed}"}
        return 400, None, {"error": error}

    with echo_server(reply) as server, caplog.at_level(logging.DEBUG):
        client = echo_client(server)
        with pytest.raises(ApiError) as caught:
            client.sync_post(JOBS, {"source": "api", "scope": "s"})
    message = str(caught.value)
    assert message.startswith("J1 request POST ")
    assert "failed with HTTP 400 BAD_[redacted]: invalid key [redacted];" in message
    assert caught.value.code == "BAD_[redacted]"
    assert_no_key(message)
    assert_no_key(caplog.text)


@pytest.mark.parametrize("form", KEY_FORMS)
def test_echoed_key_redacted_in_reason_phrase(form):
    def reply(method, path, key):
        return 418, f"teapot {KEY_FORMS[form](key)}", b""

    with echo_server(reply) as server:
        client = echo_client(server)
        with pytest.raises(ApiError) as caught:
            client.sync_post(JOBS, {"source": "api", "scope": "s"})
    message = str(caught.value)
    assert "failed with HTTP 418: teapot [redacted];" in message
    assert_no_key(message)


def test_echoed_key_redacted_in_text_body():
    def reply(method, path, key):
        return 400, "Bad Request", f"<html>no such key {key}</html>".encode()

    with echo_server(reply) as server:
        client = echo_client(server)
        with pytest.raises(ApiError) as caught:
            client.sync_get(JOBS + "/j-1")
    message = str(caught.value)
    assert "<html>no such key [redacted]</html>" in message
    assert_no_key(message)


@pytest.mark.parametrize("form", KEY_FORMS)
def test_echoed_key_redacted_in_graphql_code(form):
    def reply(method, path, key):
        echoed = KEY_FORMS[form](key)
        error = {"message": f"denied {echoed}", "extensions": {"code": echoed}}
        return 200, None, {"errors": [error]}

    with echo_server(reply) as server:
        client = echo_client(server)
        with pytest.raises(ApiError) as caught:
            query(client)
    message = str(caught.value)
    assert "returned an error [redacted]: denied [redacted]" in message
    assert caught.value.code == "[redacted]"
    assert_no_key(message)


def test_echoed_key_redacted_in_rejected_credentials():
    def reply(method, path, key):
        return 401, None, {"message": f"key {key} is not valid"}

    with echo_server(reply) as server:
        client = echo_client(server)
        with pytest.raises(CredentialsError) as caught:
            query(client)
    message = str(caught.value)
    assert "(HTTP 401, key [redacted] is not valid)" in message
    assert_no_key(message)


def test_echoed_key_redacted_in_read_data():
    def reply(method, path, key):
        row = {
            "id": "e-1",
            "entity": {"_id": "e-1", "_key": "service-1", "_type": ["service"]},
            "properties": {"note": f"token {key}", f"by-{key}": True},
        }
        # The first query reads entities, the second relationships.
        rows = [] if server.seen[1:] else [row]
        page = {"type": "list", "data": rows, "cursor": None, "url": None}
        return 200, None, {"data": {"queryV1": page}}

    with echo_server(reply) as server:
        target = JupiterOneTarget.from_environment(
            echo_environ(server), client_options=emulator_fixture.FAST_CLIENT
        )
        live = target.read("inventory")
    (entity,) = live.entities
    assert entity["note"] == "token [redacted]"
    assert entity["by-[redacted]"] is True
    assert_no_key(json.dumps(live.entities))


def test_server_text_is_one_bounded_line():
    def reply(method, path, key):
        message = "\x1b[31mred\x1b[0m\nsecond line\u202e" + "x" * 10_000
        return 400, None, {"error": {"code": "BAD", "message": message}}

    with echo_server(reply) as server:
        client = echo_client(server)
        with pytest.raises(ApiError) as caught:
            client.sync_post(JOBS, {"source": "api", "scope": "s"})
    message = str(caught.value)
    assert "\\x1b[31mred\\x1b[0m\\nsecond line\\u202e" in message
    assert "\n" not in message
    assert "\x1b" not in message
    assert "more characters)" in message
    assert len(message) < 600


def test_echoed_key_never_in_job_progress(caplog):
    def reply(method, path, key):
        return 200, None, {"job": {"id": f"j-{key}-1", "status": "AWAITING_UPLOADS"}}

    progress: list[str] = []
    with echo_server(reply) as server, caplog.at_level(logging.DEBUG):
        target = JupiterOneTarget.from_environment(
            echo_environ(server, PLAIN_KEY),
            client_options=emulator_fixture.FAST_CLIENT,
        )
        desired = DesiredState([{"_key": "service-1", "_type": "s", "_class": "S"}], [])
        with pytest.raises(ApiError) as caught:
            target.apply("inventory", desired, progress.append)
        seen = list(server.seen)
    assert "has a job id that is not 1-200 letters" in str(caught.value)
    # The job id was not used: nothing was uploaded to it or finalized.
    assert [method for method, _ in seen] == ["POST"]
    assert_no_key(str(caught.value), PLAIN_KEY)
    assert_no_key(" ".join(progress), PLAIN_KEY)
    assert_no_key(caplog.text, PLAIN_KEY)


def test_echoed_key_redacted_in_job_status():
    def reply(method, path, key):
        job = {"id": "job-1", "status": f"RUNNING {key}"}
        job.update(numEntitiesUploaded=1, numRelationshipsUploaded=0)
        return 200, None, {"job": job}

    progress: list[str] = []
    with echo_server(reply) as server:
        target = JupiterOneTarget.from_environment(
            echo_environ(server),
            client_options=emulator_fixture.FAST_CLIENT,
            sync_options={"poll_interval": 0.01, "time_limit": 0.05},
        )
        desired = DesiredState([{"_key": "service-1", "_type": "s", "_class": "S"}], [])
        with pytest.raises(TargetError) as caught:
            target.apply("inventory", desired, progress.append)
    message = str(caught.value)
    assert "(status RUNNING [redacted])" in message
    assert_no_key(message)
    assert progress[0] == "started sync job job-1 for scope 'inventory'"
    assert_no_key(" ".join(progress))


class _BadStatusLineHandler(http.server.BaseHTTPRequestHandler):
    """Answers with a status line that is not HTTP and contains the key."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.wfile.write(f"BOGUS {key}\r\n\r\n".encode())
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_echoed_key_redacted_in_urllib3_retry_log(caplog):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BadStatusLineHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = echo_client(server, retries=1)
        with caplog.at_level(logging.DEBUG), pytest.raises(ApiError) as caught:
            query(client)
    finally:
        server.shutdown()
        server.server_close()
    retries = [
        r.getMessage()
        for r in caplog.records
        if r.name == "urllib3.connectionpool" and r.getMessage().startswith("Retrying")
    ]
    assert len(retries) == 1, caplog.text
    assert "BadStatusLine('BOGUS [redacted]" in retries[0]
    assert "[redacted]" in str(caught.value)
    assert_no_key(caplog.text)
    assert_no_key(str(caught.value))


def test_newline_key_sends_no_request():
    def reply(method, path, key):
        return 200, None, {"data": {}}

    with echo_server(reply) as server:
        environ = {**echo_environ(server), "J1_API_KEY": "sekrit\nKEY"}
        with pytest.raises(CredentialsError) as caught:
            JupiterOneTarget.from_environment(environ)
        seen = list(server.seen)
    assert str(caught.value).startswith("J1_API_KEY contains a line break")
    assert seen == []
