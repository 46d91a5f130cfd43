"""The emulator's HTTP server: HTTP/1.1 with keep-alive, on 127.0.0.1 only.

It reads bodies by ``Content-Length`` or chunked transfer coding, inflates
``Content-Encoding: gzip`` and rejects bodies over the size limit with HTTP
413. It reads such a body to the end first, so that the client sees the reply
instead of a reset connection. Fault rules apply before or after the
application handles a request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from j1gitops.emulator.app import (
    EmulatorApp,
    EmulatorOptions,
    Request,
    Response,
    fault_response,
)
from j1gitops.store.sqlite import Store

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
# An inflated gzip body may be this many times the size limit, no more.
_INFLATE_FACTOR = 8


class _BodyTooLarge(Exception):
    pass


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "j1gitops-emulator"
    # Headers and body go out in separate writes; without TCP_NODELAY the
    # client's delayed ACK delays every reply by about 40 ms.
    disable_nagle_algorithm = True
    server: _EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, is_open=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, is_open=False)

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def do_PUT(self) -> None:
        self.handle_request("PUT")

    def do_DELETE(self) -> None:
        self.handle_request("DELETE")

    def handle_request(self, method: str) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        try:
            body = self.read_body(app.options.max_body_bytes)
        except _BodyTooLarge:
            self.send(
                Response(413, {"message": _too_large(app.options.max_body_bytes)})
            )
            return
        except ValueError as exc:
            self.send(
                Response(400, {"error": {"code": "BAD_REQUEST", "message": str(exc)}})
            )
            return
        request = Request(
            method, parts.path, dict(parse_qsl(parts.query)), self.headers, body
        )
        app.count(request)
        fault = None
        if not parts.path.startswith("/_emulator/"):
            fault = app.faults.decide(method, parts.path)
        if fault is not None:
            logger.info("injecting fault %s into %s %s", fault.kind, method, parts.path)
            if fault.kind == "slow":
                time.sleep(fault.delay)
            replaced = fault_response(fault)
            if replaced is not None:
                self.send(replaced)
                return
        try:
            response = app.handle(request, fault)
        except Exception:
            logger.exception("the emulator failed on %s %s", method, parts.path)
            message = "the emulator failed; its log has the traceback"
            response = Response(
                500, {"error": {"code": "INTERNAL_ERROR", "message": message}}
            )
        if fault is not None and fault.kind == "drop-after":
            response = Response(0, drop=True)
        self.send(response)

    def read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked(limit)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > limit:
                _drain(self.rfile, length)
                raise _BodyTooLarge
            body = self.rfile.read(length)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = _inflate(body, limit * _INFLATE_FACTOR)
        return body

    def _read_chunked(self, limit: int) -> bytes:
        chunks, total, too_large = [], 0, False
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunk = self.rfile.read(size)
            self.rfile.readline()
            total += size
            too_large = too_large or total > limit
            if not too_large:
                chunks.append(chunk)
        if too_large:
            raise _BodyTooLarge
        return b"".join(chunks)

    def send(self, response: Response) -> None:
        if response.drop:
            self.close_connection = True
            return
        body = json.dumps(response.payload).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # J1 sends these on every reply; the emulator's bucket never runs dry.
        self.send_header("RateLimit-Limit", "1000")
        self.send_header("RateLimit-Remaining", "999")
        self.send_header("RateLimit-Requested", "1")
        self.send_header("RateLimit-Reset", "1")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        # The request line has no secrets; headers, which hold the key, are never logged.
        logger.debug("%s %s", self.address_string(), format % args)


class _EmulatorHTTPServer(ThreadingHTTPServer):
    """Tracks open connections, so that closing can end them and join their threads.

    Without that, a handler still sleeping in a slow fault would reach the
    store after it was closed.
    """

    daemon_threads = False  # server_close() joins the handler threads
    app: EmulatorApp

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def track(self, connection: socket.socket, is_open: bool) -> None:
        with self.connections_lock:
            if is_open:
                self.connections.add(connection)
            else:
                self.connections.discard(connection)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            # A connection the client already closed raises OSError here.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        # A client that went away mid-reply is normal for a test server.
        logger.debug(
            "connection from %s ended with an error", client_address, exc_info=True
        )


class EmulatorServer:
    """One running emulator. Use ``start()`` for a background thread, or
    ``serve_forever()`` in the foreground; ``close()`` stops it."""

    def __init__(self, options: EmulatorOptions):
        self.options = options
        self.store = Store(options.state)
        self.app = EmulatorApp(options, self.store)
        self.httpd = _EmulatorHTTPServer((HOST, options.port), EmulatorHandler)
        self.httpd.app = self.app
        self.port = self.httpd.server_address[1]
        self.url = f"http://{HOST}:{self.port}"
        self.app.queries.base_url = self.url
        self.thread: threading.Thread | None = None

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.05)

    def start(self) -> EmulatorServer:
        self.thread = threading.Thread(
            target=self.serve_forever, daemon=True, name="emulator"
        )
        self.thread.start()
        return self

    def close(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
        self.httpd.close_connections()
        self.httpd.server_close()
        self.app.jobs.close()
        with self.app.backend.lock:
            self.store.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()


def _drain(stream, length: int) -> None:
    while length > 0:
        length -= len(stream.read(min(length, 1 << 16)) or b"\0" * length)


def _inflate(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"invalid gzip body: {exc}") from exc
    if len(data) > limit:
        raise _BodyTooLarge
    return data


def _too_large(limit: int) -> str:
    return (
        f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
    )
