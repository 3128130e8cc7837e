"""The catalogue of webhook events: adding one is one ``register_event_type`` line here plus one emit call.

``agency`` says whether an agency's endpoint may subscribe to it: such an
event reaches an agency only when the emitter names the agency among the
users that may see it (``campaign_user_ids``); staff endpoints receive every
event they subscribed to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str  # "<object>.<what happened>"
    description: str
    agency: bool  # agencies may subscribe (for their own campaigns)


_EVENT_TYPES: dict[str, EventType] = {}


def register_event_type(name: str, description: str, *, agency: bool) -> EventType:
    event_type = EventType(name=name, description=description, agency=agency)
    _EVENT_TYPES[name] = event_type
    return event_type


def event_types() -> list[EventType]:
    return list(_EVENT_TYPES.values())


def event_type(name: str) -> EventType | None:
    return _EVENT_TYPES.get(name)


# fmt: off
register_event_type("imageset.finished", "An image set's finish job succeeded: the set with its job (counts, skipped files and why).", agency=False)  # noqa: E501
register_event_type("imageset.failed", "An image set's finish job failed: the set with its job and the error.", agency=False)  # noqa: E501
register_event_type("campaign.activated", "A campaign became active (labeling starts, or it was reopened): the campaign.", agency=True)  # noqa: E501
register_event_type("campaign.completed", "Every image of a campaign is labeled, or staff completed it: the campaign.", agency=True)  # noqa: E501
register_event_type("campaign.finished", "Staff finished a campaign; its export is queued: the campaign.", agency=True)  # noqa: E501
register_event_type("export.succeeded", "A campaign's export succeeded: the campaign and the job's result (files, hashes, Azure ML assets).", agency=False)  # noqa: E501
register_event_type("image.rejected", "Staff rejected images of a campaign (one event per decision): the campaign id and each image with the reason; the agency should label them again.", agency=True)  # noqa: E501
register_event_type("image.rejection_withdrawn", "A reviewer took back (undid) a rejection within the undo window: the campaign id and the image, with whether it counts as labeled again (it then needs no new labels).", agency=True)  # noqa: E501
register_event_type("export.failed", "A campaign's export failed: the campaign, the error and the files written so far.", agency=False)  # noqa: E501
# fmt: on
