"""Fixtures of the client's tests: a real HTTP server on 127.0.0.1 whose answers a test scripts.

Tests reach the helpers through the fixtures (``server.Answer``, ``server.error``): a module
named ``conftest`` cannot be imported reliably, the repository root has one too.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Received:
    """One request the fake server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    time: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    """What the fake server sends back; ``drop``: close the connection without answering."""

    status: int = 200
    body: object = "ok"  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client closing its connection (the tests drop some on purpose) is no error worth a traceback."""


class FakeServer:
    """An HTTP/1.1 server in a thread; ``respond(received) -> Answer`` decides each answer (default: 200 "ok")."""

    Answer = Answer

    @staticmethod
    def error(status: int, detail: str, headers: dict[str, str] | None = None) -> Answer:
        """The contract's error answer."""
        return Answer(status, {"detail": detail, "status": status}, headers or {})

    def __init__(self, port: int = 0):
        self.received: list[Received] = []
        self.respond: Callable[[Received], Answer] = lambda received: Answer()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                received = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
                with server._lock:
                    server.received.append(received)
                self._send(server.respond(received))

            def _send(self, answer: Answer):
                if answer.drop:
                    self.close_connection = True
                    return
                data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json", **answer.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args):  # quiet
                pass

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def script(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers`` in order, then 200 "ok"."""
        queue = list(answers)
        self.respond = lambda received: queue.pop(0) if queue else Answer()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def make_server():
    """``make_server(port=0)`` starts a ``FakeServer``; every one is stopped when the test ends."""
    started: list[FakeServer] = []

    def make(port: int = 0) -> FakeServer:
        started.append(FakeServer(port))
        return started[-1]

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def server(make_server) -> FakeServer:
    return make_server()


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- what the client sends, against labelhub's OpenAPI document -------------------------


@pytest.fixture(autouse=True)
def _requests_declared_in_openapi(request, monkeypatch):
    """In a test against a live labelhub, every API request the client (or the CLI) sends must be an
    operation the OpenAPI document declares, with declared query parameters and body fields only."""
    if "live_server" not in request.fixturenames:
        yield
        return
    import httpx

    from .openapi_contract import API_PREFIX, SentRequest, openapi_document, undeclared

    document = openapi_document(request.getfixturevalue("live_server").url)  # before the recording starts
    sent: list[SentRequest] = []
    original = httpx.Client.send

    def send(self, request, *args, **kwargs):  # httpx's own parameter name: ``stream()`` passes it by keyword
        outgoing = request
        if outgoing.url.path.startswith(API_PREFIX + "/"):
            try:
                body = outgoing.content
            except httpx.RequestNotRead:  # a streamed upload: raw bytes, not JSON
                body = b""
            sent.append(SentRequest(outgoing.method, str(outgoing.url), outgoing.headers.get("content-type", ""), body))
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    yield
    problems = {f"{r.method} {r.url}: {', '.join(found)}" for r in sent if (found := undeclared(document, r))}
    assert not problems, "requests using what the OpenAPI document does not declare:\n" + "\n".join(sorted(problems))
