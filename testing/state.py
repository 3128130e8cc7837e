"""The stored state of both apps, for tests that send one request to either and check a refusal stored nothing."""

from __future__ import annotations

from campaigns.tests.conftest import campaign_state
from imagesets.tests.conftest import imageset_state


def stored_state():
    """Everything an API operation of either app can write (image sets, campaigns, users and keys)."""
    return imageset_state(), campaign_state()
