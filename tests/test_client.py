"""The J1 settings and HTTP client, against the emulator over real HTTP."""

from __future__ import annotations

import http.server
import logging
import re
import socket
import threading
import time

import emulator_fixture
import pytest

from j1gitops.errors import ApiError, ConfigError, CredentialsError, UsageError
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
