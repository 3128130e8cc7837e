"""An endpoint's URL and events as sent (API or admin) parsed into what the services take; 422 for a value refused.

The API's input serializers (``webhooks.serializers``) and the admin's form both call these."""

from __future__ import annotations

import unicodedata

from core.exceptions import Unprocessable
from webhooks.events import event_type, event_types
from webhooks.models import URL_MAX_LENGTH
from webhooks.network import DestinationRefused, check_url


def parse_url(url: str) -> str:
    """An https URL (http only with ``WEBHOOKS_ALLOW_HTTP``) reaching a public address; 422 otherwise."""
    if not url or len(url) > URL_MAX_LENGTH:
        raise Unprocessable(f"'url' must be 1 to {URL_MAX_LENGTH} characters")
    # Cc: C0, DEL and C1 controls; Cf: invisible format characters (zero-width, bidi
    # overrides) that make a URL read as something other than what is called.
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in url):
        raise Unprocessable("'url' must not contain spaces or control characters")
    if "@" in url.split("?", 1)[0].split("#", 1)[0].split("//", 1)[-1].split("/", 1)[0]:
        raise Unprocessable("'url' must not hold a user name or password")
    if "#" in url:
        raise Unprocessable("'url' must not have a #fragment")
    try:
        check_url(url)
    except DestinationRefused as exc:
        raise Unprocessable(f"'url': {exc}") from None
    return url


def parse_events(events: list[str], *, agency: bool) -> list[str]:
    """Known event types, each once, in the order sent; an agency only those open to agencies."""
    if not events:
        raise Unprocessable("'events' must name at least one event type")
    parsed: list[str] = []
    for name in events:
        known = event_type(name)
        if known is None:
            names = ", ".join(t.name for t in event_types())
            raise Unprocessable(f"'events': unknown event type {name!r} (known: {names})")
        if agency and not known.agency:
            raise Unprocessable(f"'events': {name!r} is for staff endpoints only")
        if name not in parsed:
            parsed.append(name)
    return parsed
