"""A real HTTP receiver in the test process, verifying every delivery with the standardwebhooks library."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from webhooks.events import event_types
from webhooks.services import webhook_create, webhook_sweep

ALL_EVENTS = [t.name for t in event_types()]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    verified: dict | None  # the payload if the signature verified


@dataclass
class Receiver:
    """Answers each POST with the next of ``answers`` (the last one repeats): a status, ``"hang"``, or
    ``(seconds, status)`` for a status after a delay."""

    url: str = ""
    answers: list = field(default_factory=lambda: [200])
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, index: int):
        return self.answers[min(index, len(self.answers) - 1)]

    def payloads(self) -> list[dict]:
        return [r.verified for r in self.received]

    def types(self) -> list[str]:
        return [json.loads(r.body)["type"] for r in self.received]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = None
            if receiver.secret:
                try:
                    verified = Verifier(receiver.secret).verify(body, headers)
                except WebhookVerificationError:
                    verified = None
            with receiver.lock:
                index = len(receiver.received)
                receiver.received.append(Received(headers=headers, body=body, at=time.monotonic(), verified=verified))
            answer = receiver.answer(index)
            if answer == "hang":
                receiver.release.wait(10)
                return
            if isinstance(answer, tuple):  # (seconds, status): a slow answer
                delay, answer = answer
                receiver.release.wait(delay)
            self.send_response(answer)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answer {answer}".encode())

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, private networks, http and its port allowed for this test; tiny retry delays."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_TIMEOUT = 1.0
    settings.WEBHOOKS_RETRY_SCHEDULE = [0.1, 0.3, 0.6]
    settings.WEBHOOKS_RETRY_JITTER = 0.0
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    settings.WEBHOOKS_ALLOWED_PORTS = [server.server_address[1]]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def endpoint_for(receiver: Receiver, *, events=None, owner=None):
    """An endpoint POSTing to the receiver, which verifies with its secret."""
    webhook = webhook_create(url=receiver.url, events=events or ALL_EVENTS, owner=owner)
    receiver.secret = webhook.secret
    return webhook


def sweep_until(done, *, timeout: float = 10.0) -> None:
    """Run the sweep (as the worker's sweeper thread does) until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for deliveries"
        webhook_sweep()
        time.sleep(0.02)
