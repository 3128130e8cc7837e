"""Content negotiation for endpoints whose success answer is not JSON."""

from __future__ import annotations


class ForcedNegotiationMixin:
    """Never answer 406: pick a renderer whatever ``Accept`` says.

    For views that answer a file, a CSV or an empty upload response: an ``<img>``
    sends ``Accept: image/png``, a CSV client ``text/csv``, an upload client
    whatever it likes. The JSON renderer is only used for their error bodies,
    which stay JSON regardless. Put it before ``APIView`` in the bases.
    """

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
