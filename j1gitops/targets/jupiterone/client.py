"""The HTTP client for J1's GraphQL and synchronization APIs, built on requests.

One ``requests.Session`` carries every call. urllib3's ``Retry`` retries HTTP
429, 502, 503 and 504 and dropped connections, with exponential backoff and
jitter. Whether J1 sends ``Retry-After`` with a 429 is unconfirmed, so it is
honoured when present and the backoff applies otherwise. J1 may also report rate limiting inside an HTTP
200 reply, a form the official Python client handles too, so such a reply is
retried with the same backoff. Every request logs one line with its final
status, and every retry logs one more. ``_send`` is the one place where requests'
exceptions and HTTP errors become ``ApiError`` or ``CredentialsError``.

A server may echo the API key back, so nothing it sends is trusted to be free
of it. ``_decode`` replaces the key in every string of a decoded reply, and
``server_text`` also bounds and escapes server text before it goes into a
message. A logging filter on this package's and urllib3's loggers redacts log
lines that urllib3 builds from server replies, such as a malformed status line.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import weakref
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from j1gitops import __version__
from j1gitops.errors import ApiError, CredentialsError
from j1gitops.targets.jupiterone.settings import Settings, is_loopback_host

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = f"j1gitops/{__version__}"
# Maximum characters of server text in one message, after which it is cut.
SERVER_TEXT_LIMIT = 300
REDACTED = "[redacted]"
# urllib3's loggers that format server replies or exceptions into their lines.
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.util.retry",
)


def secret_forms(secret: str) -> list[str]:
    """Return ``secret`` as a server might echo it: raw, escaped or URL-encoded.

    The forms are the raw text, its Python ``repr`` (as in requests' header
    errors), its JSON string (with and without ``\\/`` for ``/``) and its
    percent-encodings in upper and lower case, longest first.
    """
    json_form = json.dumps(secret)[1:-1]
    forms = {
        secret,
        repr(secret)[1:-1],
        json_form,
        json_form.replace("/", "\\/"),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }
    forms |= {re.sub(r"%[0-9A-F]{2}", _lower_match, form) for form in forms}
    return sorted((form for form in forms if form), key=len, reverse=True)


def _lower_match(match: re.Match) -> str:
    return match.group().lower()


def redact_secrets(text: str, forms: list[str]) -> str:
    """Replace each of ``forms`` in ``text`` with ``[redacted]``."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


class _RedactingFilter(logging.Filter):
    """Redacts the keys of all live clients from records of the loggers it is on."""

    def __init__(self) -> None:
        super().__init__()
        self.clients: weakref.WeakSet[ApiClient] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        forms = [form for client in list(self.clients) for form in client.secret_forms]
        if not forms:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad arguments, which logging reports itself
            return True
        redacted = redact_secrets(message, forms)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_log_filter = _RedactingFilter()
for _name in (__name__, "j1gitops.targets.jupiterone.sync", *_URLLIB3_LOGGERS):
    logging.getLogger(_name).addFilter(_log_filter)


class BackoffRetry(Retry):
    """urllib3's ``Retry``, waiting before the first retry too and logging each retry.

    Plain urllib3 retries at once the first time, which against a rate limit
    only spends the next token.
    """

    def get_backoff_time(self) -> float:
        attempts = len(self.history)
        if attempts == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (attempts - 1))
        value += random.random() * self.backoff_jitter  # noqa: S311 (jitter)
        return min(self.backoff_max, value)

    def increment(self, method=None, url=None, response=None, error=None, **kwargs):
        retry = super().increment(method, url, response, error, **kwargs)
        if response is not None:
            reason = f"HTTP {response.status}"
        elif error is not None:
            reason = type(error).__name__
        else:
            reason = "a rate-limit error in an HTTP 200 reply"
        logger.warning(
            "retrying %s %s after %s (retry %d of %s)",
            method,
            urlsplit(url or "").path or url,
            reason,
            len(retry.history),
            self.total + len(self.history) if isinstance(self.total, int) else "?",
        )
        return retry


class ApiClient:
    """A client of J1's APIs (or the emulator's), as the account and key in ``settings``."""

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        retries: int = 6,
        backoff_factor: float = 1.0,
        backoff_jitter: float = 1.0,
        backoff_max: float = 30.0,
        retry_after_max: int = 120,
    ):
        self.settings = settings
        self.secret_forms = secret_forms(settings.api_key)
        _log_filter.clients.add(self)
        self.timeout = (connect_timeout, read_timeout)
        self.retry = BackoffRetry(
            total=retries,
            other=0,
            allowed_methods=frozenset({"GET", "POST"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=self.retry)
        # Mounted for http:// as well, so that runs against the emulator retry
        # exactly as runs against J1 do.
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        """Return ``text`` with every form of the API key replaced."""
        return redact_secrets(text, self.secret_forms)

    def server_text(self, value: object, limit: int = SERVER_TEXT_LIMIT) -> str:
        """Return ``value`` as one line that is safe to put in a message or log.

        Control and format characters become escapes (so a reply cannot break
        the line or send terminal sequences), the key is redacted, and the text
        is cut to ``limit`` characters. Escaping comes before redacting, because
        escaping redacted text could turn a line break into the key's ``\\n``.
        """
        text = redact_secrets(_escape_controls(str(value)), self.secret_forms)
        if len(text) > limit:
            text = f"{text[:limit]}... ({len(text) - limit} more characters)"
        return text

    # Public calls

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        """Run one GraphQL operation and return its ``data``; raise on ``errors``."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        payload = self._request_json("POST", self.settings.graphql_url, body)
        errors = payload.get("errors")
        if errors:
            raise self._graphql_error("POST", self.settings.graphql_url, errors)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ApiError(
                f"J1 returned no data for POST {self.settings.graphql_url}; "
                "run again, and report it if it persists",
                method="POST",
                url=self.settings.graphql_url,
                status=200,
            )
        return data

    def sync_post(self, path: str, body: bytes | dict) -> dict:
        """POST to the synchronization API and return the decoded reply."""
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        return self._request_json("POST", self.settings.api_base_url + path, body)

    def sync_get(self, path: str) -> dict:
        """GET from the synchronization API and return the decoded reply."""
        return self._request_json("GET", self.settings.api_base_url + path)

    def fetch_unauthenticated(self, url: str) -> dict:
        """GET a deferred-result document; J1's clients send no credentials there.

        The URL may carry a query, as pre-signed download URLs do, but must be
        https, or http to a loopback host.
        """
        if not isinstance(url, str):
            raise ApiError(
                f"J1 returned a deferred result URL of type {type(url).__name__} "
                "where a string was expected",
                method="GET",
            )
        parts = urlsplit(url)
        host = parts.hostname or ""
        display_url = self.server_text(_without_query(url))
        if not (
            parts.scheme == "https"
            or (parts.scheme == "http" and is_loopback_host(host))
        ):
            raise ApiError(
                f"J1 returned a deferred result URL {display_url} that is neither https "
                "nor http to a loopback host; check J1_GRAPHQL_URL",
                method="GET",
                url=display_url,
            )
        response = self._send("GET", url, headers={"User-Agent": USER_AGENT})
        return self._decode(response, "GET", display_url)

    # Internals

    def _auth_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.settings.api_key}",
            "JupiterOne-Account": self.settings.account_id,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }

    def _request_json(self, method: str, url: str, body: bytes | None = None) -> dict:
        """Send one call; retry an HTTP 200 rate-limit reply like an HTTP 429."""
        headers = self._auth_headers()
        if body is not None:
            headers["Content-Type"] = "application/json"
        retry = self.retry
        while True:
            response = self._send(method, url, data=body, headers=headers)
            payload = self._decode(response, method, url)
            if not _is_rate_limit_reply(payload):
                return payload
            retry = self._wait_for_rate_limit(retry, method, url, response)

    def _wait_for_rate_limit(
        self, retry: Retry, method: str, url: str, response
    ) -> Retry:
        try:
            retry = retry.increment(method, url)
        except MaxRetryError as exc:
            raise ApiError(
                f"J1 kept rate-limiting {method} {url} after {len(retry.history)} "
                "retries; wait a few minutes and run again",
                method=method,
                url=url,
                status=response.status_code,
                code="RATE_LIMITED",
            ) from exc
        delay = _retry_after(response, retry.retry_after_max)
        time.sleep(retry.get_backoff_time() if delay is None else delay)
        return retry

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        """Send one request. This is the one place where requests' errors become ours.

        A deferred-result URL comes from the server, so the URL and path that go
        into messages and logs pass through ``server_text``.
        """
        started = time.monotonic()
        path = self.server_text(urlsplit(url).path or "/")
        request_url, url = url, self.server_text(_without_query(url))
        try:
            response = self.session.request(
                method,
                request_url,
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(method, url, exc) from exc
        elapsed = (time.monotonic() - started) * 1000
        logger.info("%s %s %d %.0fms", method, path, response.status_code, elapsed)
        self._check_status(response, method, url)
        return response

    def _transport_error(self, method: str, url: str, exc: Exception) -> ApiError:
        cause = _root_cause(exc)
        timed_out = isinstance(cause, (TimeoutError, ReadTimeoutError)) or isinstance(
            exc, requests.exceptions.Timeout
        )
        outcome = "timed out" if timed_out else "failed"
        detail = self.server_text(f"{type(cause).__name__}: {cause}")
        logger.warning("%s %s %s: %s", method, urlsplit(url).path, outcome, detail)
        return ApiError(
            f"J1 request {method} {url} {outcome} after retries ({detail}); check the "
            "network connection and the J1 URL, then run again",
            method=method,
            url=url,
        )

    def _check_status(self, response: requests.Response, method: str, url: str) -> None:
        status = response.status_code
        if status < 300:
            return
        code, message = self._error_details(response)
        if status in (401, 403):
            raise CredentialsError(
                f"J1 rejected the credentials for {method} {url} (HTTP {status}"
                f"{', ' + message if message else ''}): set "
                f"{self.settings.key_variable} to a valid API key and "
                f"{self.settings.account_variable} to its account id"
            )
        raise ApiError(
            f"J1 request {method} {url} failed with HTTP {status}"
            f"{' ' + code if code else ''}: "
            f"{message or self.server_text(response.reason or 'no reason given')}; "
            f"{_hint(status, self.retry.total)}",
            method=method,
            url=url,
            status=status,
            code=code,
        )

    def _decode(self, response: requests.Response, method: str, url: str) -> dict:
        """Return the reply's JSON object, with the key redacted in every string."""
        try:
            payload = self._redact_payload(response.json())
        except ValueError as exc:
            raise ApiError(
                f"J1 returned a reply to {method} {url} that is not JSON; check "
                "that the URL points at the J1 API",
                method=method,
                url=url,
                status=response.status_code,
            ) from exc
        if not isinstance(payload, dict):
            raise ApiError(
                f"J1 returned a JSON {type(payload).__name__} to {method} {url} "
                "where an object was expected",
                method=method,
                url=url,
                status=response.status_code,
            )
        return payload

    def _graphql_error(self, method: str, url: str, errors: object) -> ApiError:
        if not isinstance(errors, list):
            errors = [errors]
        code, message = self._error_entry(errors[0])
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        return ApiError(
            f"J1 GraphQL request {method} {url} returned an error"
            f"{' ' + code if code else ''}: {message}{more}",
            method=method,
            url=url,
            status=200,
            code=code,
        )

    def _redact_payload(self, payload: Any) -> Any:
        """Redact the key in every string, dict key included, of decoded JSON.

        The walk uses a stack instead of recursion, because a reply may nest
        as deep as the JSON decoder allows.
        """
        if isinstance(payload, str):
            return self.redact(payload)
        stack = [payload]
        while stack:
            container = stack.pop()
            if isinstance(container, dict):
                items = list(container.items())
                container.clear()
                for key, value in items:
                    container[self.redact(key)] = self._redact_item(value, stack)
            elif isinstance(container, list):
                for index, value in enumerate(container):
                    container[index] = self._redact_item(value, stack)
        return payload

    def _redact_item(self, value: Any, stack: list) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, (dict, list)):
            stack.append(value)
        return value

    def _error_details(self, response: requests.Response) -> tuple[str | None, str]:
        """Return J1's error code and message from a failed reply's body.

        The sync API sends ``{"error": {"code", "message"}}``; GraphQL sends an
        ``errors`` array; an AWS gateway sends ``{"message"}``.
        """
        try:
            body = self._redact_payload(response.json())
        except ValueError:
            return None, self.server_text(response.text.strip())
        if not isinstance(body, dict):
            return None, self.server_text(body)
        error = body.get("error")
        if isinstance(error, dict):
            return self._error_entry(error)
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return self._error_entry(errors[0])
        return self._error_entry(
            {"code": body.get("code"), "message": body.get("message", error or "")}
        )

    def _error_entry(self, entry: object) -> tuple[str | None, str]:
        """Return the code and message of one error object, both made one safe line.

        The code is ``code`` or GraphQL's ``extensions.code``.
        """
        if not isinstance(entry, dict):
            return None, self.server_text(entry)
        code = entry.get("code")
        extensions = entry.get("extensions")
        if code is None and isinstance(extensions, dict):
            code = extensions.get("code")
        message = entry.get("message", "")
        return (
            None if code in (None, "") else self.server_text(code),
            "" if message is None else self.server_text(message),
        )


def _escape_controls(text: str) -> str:
    """Return ``text`` with control, format and line-separator characters escaped."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _without_query(url: str) -> str:
    """Return ``url`` without its query, which may hold a download signature."""
    return urlsplit(url)._replace(query="", fragment="").geturl()


def _root_cause(exc: BaseException) -> BaseException:
    """Return the error under requests' and urllib3's wrappers (MaxRetryError)."""
    seen = exc
    while True:
        inner = getattr(seen, "reason", None)
        if inner is None and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]
        if not isinstance(inner, BaseException) or inner is seen:
            return seen
        seen = inner


def _is_rate_limit_reply(payload: dict) -> bool:
    """Return whether an HTTP 200 reply reports rate limiting in ``errors``.

    The official Python client treats one error whose message contains "429" as
    rate limiting; a ``RATE_LIMITED`` code is accepted too.
    """
    errors = payload.get("errors")
    if not isinstance(errors, list) or not errors:
        return False
    for error in errors:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        if not isinstance(extensions, dict):
            extensions = {}
        code = str(extensions.get("code", "")).upper()
        if "429" in str(error.get("message", "")) or code in ("RATE_LIMITED", "429"):
            return True
    return False


def _retry_after(response: requests.Response, maximum: float) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return min(float(value), maximum)


def _hint(status: int, retries: int) -> str:
    if status == 413:
        return "the request body is over J1's size limit; report this as a bug"
    if status == 429:
        return (
            f"J1 kept rate-limiting through {retries} retries; wait a few minutes "
            "and run again"
        )
    if status in RETRY_STATUSES:
        return f"J1 kept failing through {retries} retries; run again later"
    if status >= 500:
        return "J1 had a server error; run again later"
    if status == 404:
        return "check J1_API_BASE_URL and J1_GRAPHQL_URL"
    return "check the request and the J1 account"
