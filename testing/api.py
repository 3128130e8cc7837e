"""What every app's API tests share: the contract's error assertion, an HTTP session for a server the test runs."""

from __future__ import annotations

import requests


def assert_error(response, code: int, detail: str | None = None) -> dict:
    """The contract's error answer: status ``code``, a JSON ``{"detail", "status"}`` body; returns the body.

    ``detail``: a part the detail must contain.
    """
    assert response.status_code == code, response.content
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert body["status"] == code and isinstance(body["detail"], str) and body["detail"], body
    if detail is not None:
        assert detail in body["detail"], body["detail"]
    return body


class NoKeepAliveSession(requests.Session):
    """A ``requests`` session that closes its connection once each call has its answer: no connection is reused.

    Reusing an idle keep-alive connection races the server closing it: the request goes out on a
    socket whose close is already on its way and fails with ``RemoteDisconnected`` (seen on a busy
    2-core machine, ``PUT .../objects`` against ``live_server``). Sending ``Connection: close`` does
    not prevent that, it causes it: Django's test server then closes the connection after answering
    without saying so in the answer, and ``http.client`` keeps a socket unless the answer says
    ``close``, so the next call reused it. Retrying instead would be correct only for idempotent
    methods (a client cannot tell whether the dropped request was applied) and would hide a server
    that really drops requests. A new connection per call to a local server costs well under a
    millisecond, and no server thread is left holding a connection when the test ends.
    """

    def request(self, *args, **kwargs):
        try:
            return super().request(*args, **kwargs)
        finally:
            # The answer's body is read (or, when streamed, its connection is closed on release):
            # close every idle pooled connection. The session stays usable and connects anew.
            self.close()
