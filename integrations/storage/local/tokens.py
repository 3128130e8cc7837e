"""The signed, expiring tokens of the local backend's read and upload URLs (``django.core.signing``)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import NamedTuple

from django.core import signing

from integrations.storage import InvalidToken, StorageError

# Also what tokens already handed out are signed with: never change them.
_READ_SALT = "integrations.storage.local.read"
_DROPBOX_SALT = "integrations.storage.local.dropbox"


def _sign(payload: dict, *, salt: str, valid_for: timedelta) -> str:
    expires = int(time.time() + valid_for.total_seconds())
    return signing.dumps({**payload, "x": expires}, salt=salt, compress=True)


def _unsign(token: str, *, salt: str) -> dict:
    try:
        payload = signing.loads(token, salt=salt)
    except signing.BadSignature:
        raise InvalidToken("The token is invalid.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("x"), int):
        raise InvalidToken("The token is invalid.")
    if time.time() > payload["x"]:
        raise InvalidToken("The token has expired.")
    return payload


def sign_read_token(path: str, *, valid_for: timedelta) -> str:
    return _sign({"p": path}, salt=_READ_SALT, valid_for=valid_for)


def unsign_read_token(token: str) -> tuple[str, int]:
    """The path a read token was issued for and its expiry (epoch seconds); ``InvalidToken`` if forged or expired."""
    payload = _unsign(token, salt=_READ_SALT)
    path = payload.get("p")
    if not isinstance(path, str):
        raise InvalidToken("The token is invalid.")
    return path, payload["x"]


class DropboxToken(NamedTuple):
    """What a dropbox upload token was issued for."""

    name: str  # the dropbox, e.g. "dropbox-<title>"
    key: str  # the set's ``dropbox_key``: the token is only good while that set is created


def sign_dropbox_token(name: str, *, key: str, valid_for: timedelta) -> str:
    if not isinstance(key, str) or not key:
        raise StorageError("A dropbox upload token needs the set's key.")
    return _sign({"d": name, "k": key}, salt=_DROPBOX_SALT, valid_for=valid_for)


def unsign_dropbox_token(token: str) -> DropboxToken:
    """The dropbox and set key an upload token was issued for; ``InvalidToken`` if forged or expired."""
    payload = _unsign(token, salt=_DROPBOX_SALT)
    name, key = payload.get("d"), payload.get("k")
    if not isinstance(name, str) or not isinstance(key, str) or not key:
        raise InvalidToken("The token is invalid.")
    return DropboxToken(name, key)
