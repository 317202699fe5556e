"""A scriptable HTTP server on 127.0.0.1 for tests: real sockets, real HTTP, no patching.

    with LoopbackServer() as server:
        server.route("/rss/cs.CR", Reply(429, headers={"Retry-After": "2"}), Reply(200, body))
        client.get(server.url("/rss/cs.CR"))    # first a 429, then the feed
        assert len(server.requests_to("/rss/cs.CR")) == 2

A route answers with its replies in order and repeats the last one. A reply may be a `Reply`
or a function of the `Request` that returns one (for paging by query parameters, or to branch
on the method and JSON body of a POST/PUT/PATCH/DELETE). Replies can
delay (a server that never answers in time), omit Content-Length (a body that ends when the
connection closes) or trickle. Unrouted paths answer 404.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded server that does not print a traceback when a client hangs up.

    Timeout tests drop connections on purpose; a reset seen while reading the next request
    on a kept-alive connection is expected then, and noise in the test output otherwise.
    """

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class Request:
    """A request the server received (any method: a responder can branch on `method`)."""

    method: str
    path: str  # without the query
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    target: str  # path and query as sent
    body: bytes = b""

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    Fields:
        status: the HTTP status.
        body: the bytes to send.
        content_type: the Content-Type header.
        headers: further headers (Retry-After, Content-Encoding, ...).
        delay: seconds to wait before answering (longer than a client's timeout: "never").
        send_length: False sends no Content-Length: the body ends when the connection closes.
        trickle: seconds between bytes of the body (a server that drips its answer).
        trickle_headers: seconds between bytes of the headers, sent after the status line (a
            slow-loris: each byte comes well within a read timeout, the headers never end).
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "application/xml; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True
    trickle: float = 0.0
    trickle_headers: float = 0.0


Responder = Reply | Callable[[Request], Reply]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 at a free port; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: dict[str, list[Responder]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = QuietHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, *replies: Responder) -> None:
        """Answer `path` (without query) with `replies` in order, repeating the last one."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes[path] = list(replies)
            self._served[path] = 0

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers that are still "never answering"
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Called from handler threads.
    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            replies = self._routes.get(request.path)
            if replies is None:
                return Reply(404, b"no route for " + request.path.encode(), "text/plain")
            n = self._served[request.path]
            self._served[request.path] = n + 1
            responder = replies[min(n, len(replies) - 1)]
        return responder(request) if callable(responder) else responder

    def _wait(self, seconds: float) -> bool:
        """Wait `seconds`; False when the server is stopping."""
        return not self._stopping.wait(seconds)


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                self.command,
                parts.path,
                parse_qs(parts.query),
                dict(self.headers.items()),
                self.path,
                body,
            )
            reply = server._answer(request)
            if reply.delay and not server._wait(reply.delay):
                return
            # The client may have given up already (a timeout test): nothing to do then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(reply)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def _send(self, reply: Reply) -> None:
            if reply.trickle_headers:
                self._send_slowly(reply)
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.send_length:
                self.send_header("Content-Length", str(len(reply.body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if reply.trickle:
                for i in range(len(reply.body)):
                    if not server._wait(reply.trickle):
                        return
                    self.wfile.write(reply.body[i : i + 1])
                    self.wfile.flush()
            else:
                self.wfile.write(reply.body)

        def _send_slowly(self, reply: Reply) -> None:
            self.close_connection = True
            self.wfile.write(f"HTTP/1.1 {reply.status} OK\r\n".encode())
            self.wfile.flush()
            headers = f"Content-Type: {reply.content_type}\r\n"
            headers += "".join(f"{name}: {value}\r\n" for name, value in reply.headers.items())
            headers += f"Content-Length: {len(reply.body)}\r\n\r\n"
            for byte in headers.encode():
                if not server._wait(reply.trickle_headers):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler
