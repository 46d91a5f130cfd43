"""The HTTP client for J1's GraphQL and synchronization APIs, built on requests.

One ``requests.Session`` carries every call. urllib3's ``Retry`` retries HTTP
429, 502, 503 and 504 and dropped connections, with exponential backoff and
jitter. Whether J1 sends ``Retry-After`` with a 429 is unconfirmed, so it is
honoured when present and the backoff applies otherwise. J1 may also report rate limiting inside an HTTP
200 reply, a form the official Python client handles too, so such a reply is
retried with the same backoff. Every request logs one line with its final
status, and every retry logs one more. ``_send`` is the one place where requests'
exceptions and HTTP errors become ``ApiError`` or ``CredentialsError``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any
from urllib.parse import urlsplit

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
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not (
            parts.scheme == "https"
            or (parts.scheme == "http" and is_loopback_host(host))
        ):
            raise ApiError(
                f"J1 returned a deferred result URL {_without_query(url)} that is "
                "neither https nor http to a loopback host; check J1_GRAPHQL_URL",
                method="GET",
                url=_without_query(url),
            )
        response = self._send("GET", url, headers={"User-Agent": USER_AGENT})
        return self._decode(response, "GET", _without_query(url))

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
        """Send one request. This is the one place where requests' errors become ours."""
        started = time.monotonic()
        path = urlsplit(url).path or "/"
        request_url, url = url, _without_query(url)
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
        detail = self._redact(f"{type(cause).__name__}: {cause}")
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
        code, message = _error_details(response)
        message = self._redact(message)
        if status in (401, 403):
            raise CredentialsError(
                f"J1 rejected the credentials for {method} {url} (HTTP {status}"
                f"{', ' + message if message else ''}): set "
                f"{self.settings.key_variable} to a valid API key and "
                f"{self.settings.account_variable} to its account id"
            )
        raise ApiError(
            f"J1 request {method} {url} failed with HTTP {status}"
            f"{' ' + code if code else ''}: {message or response.reason}; "
            f"{_hint(status, self.retry.total)}",
            method=method,
            url=url,
            status=status,
            code=code,
        )

    def _decode(self, response: requests.Response, method: str, url: str) -> dict:
        try:
            payload = response.json()
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

    def _graphql_error(self, method: str, url: str, errors: list) -> ApiError:
        first = (
            errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
        )
        code = (first.get("extensions") or {}).get("code")
        message = self._redact(str(first.get("message", "")))
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        return ApiError(
            f"J1 GraphQL request {method} {url} returned an error"
            f"{' ' + code if code else ''}: {message}{more}",
            method=method,
            url=url,
            status=200,
            code=code,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self.settings.api_key, "[redacted]")


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
        code = str((error.get("extensions") or {}).get("code", "")).upper()
        if "429" in str(error.get("message", "")) or code in ("RATE_LIMITED", "429"):
            return True
    return False


def _retry_after(response: requests.Response, maximum: float) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return min(float(value), maximum)


def _error_details(response: requests.Response) -> tuple[str | None, str]:
    """Return J1's error code and message from a failed reply's body.

    The sync API sends ``{"error": {"code", "message"}}``; GraphQL sends an
    ``errors`` array; an AWS gateway sends ``{"message"}``.
    """
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200].strip()
    if not isinstance(body, dict):
        return None, str(body)[:200]
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("code"), str(error.get("message", ""))
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return (errors[0].get("extensions") or {}).get("code"), str(
            errors[0].get("message", "")
        )
    return body.get("code"), str(body.get("message", error or ""))


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
