"""Assertions every app's API tests share."""

from __future__ import annotations


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
