"""Database helpers the services of every app share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from core.exceptions import Conflict


@contextmanager
def conflict_on_duplicate(detail: str) -> Iterator[None]:
    """Run a create in a savepoint; a unique constraint it breaks is a 409 with ``detail``.

    For the create that lost a race: the caller checks for the duplicate first
    (a clear answer without a failed insert), but a concurrent request may
    insert the same row in between. The savepoint keeps the caller's
    transaction usable after the failed insert.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(detail) from None
