"""Fixtures of the labelhub tests: every operation that takes a JSON body, and the metrics scrape."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory, CampaignLabelerFactory, new_object
from imagesets.models import Image, ImageSet
from imagesets.tests.factories import ImageFactory, ImageSetFactory

API = "/api/v1"
METRICS_TOKEN = "metrics-token-for-tests"


# --- one of every JSON-body operation (the parser's and the validators' tests) ----------------


@dataclass
class World:
    admin: object
    labeler: object
    imageset: ImageSet  # created: images can be added
    loose: Image  # in no set
    created: Campaign  # images can be added
    active: Campaign  # the labeler's: objects can be submitted
    image: Image  # in both campaigns


@pytest.fixture
def world(local_storage, admin_client, labeler_client) -> World:
    imageset = ImageSetFactory(title="open-set")
    image = ImageFactory()
    created = CampaignFactory(title="created-campaign")
    active = CampaignFactory(title="active-campaign", status=Campaign.Status.ACTIVE)
    for campaign in (created, active):
        CampaignImageFactory(campaign=campaign, image=image)
    CampaignImageFactory(campaign=active)  # a second image: one submission does not complete it
    CampaignLabelerFactory(campaign=active, user=labeler_client.user)
    return World(
        admin=admin_client,
        labeler=labeler_client,
        imageset=imageset,
        loose=ImageFactory(imageset=None),
        created=created,
        active=active,
        image=image,
    )


def send(client, method: str, path: str, body: str | bytes, content_type: str = "application/json"):
    return getattr(client, method)(f"{API}{path}", data=body, content_type=content_type)


def operations(world: World) -> dict[str, tuple]:
    """Every operation that takes a JSON body: name -> (who, method, path, a body it accepts)."""
    return {
        "create-image-set": ("admin", "post", "/image_sets", {"title": "new-set", "metadata": {"note": "x"}}),
        "finish-image-set": ("admin", "put", f"/image_sets/{world.imageset.pk}", {"new_status": "finished"}),
        "add-set-images": ("admin", "post", f"/image_sets/{world.imageset.pk}/images", [{"id": world.loose.pk}]),
        "create-campaign": (
            "admin",
            "post",
            "/campaigns",
            {"title": "new-campaign", "labeler_email": "new@example.com", "metadata": None, "label_translations": None},
        ),
        "campaign-status": ("admin", "put", f"/campaigns/{world.created.pk}", {"new_status": "active"}),
        "add-campaign-images": ("admin", "post", f"/campaigns/{world.created.pk}/images", [{"id": world.loose.pk}]),
        "submit-objects": (
            "labeler",
            "put",
            f"/campaigns/{world.active.pk}/objects",
            [{"image_id": world.image.pk, "objects": [new_object()]}],
        ),
    }


OPERATIONS = [
    "create-image-set",
    "finish-image-set",
    "add-set-images",
    "create-campaign",
    "campaign-status",
    "add-campaign-images",
    "submit-objects",
]


def call(world: World, operation: str, body: str | bytes):
    who, method, path, _ = operations(world)[operation]
    return send(getattr(world, who), method, path, body)


# --- metrics (the /metrics view's, the middleware's and metrics.py's tests) ----------------------


def sample(name: str, labels: dict | None = None) -> float:
    """One value of this process's metrics (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample ``GET /metrics`` answers: (name, sorted labels) -> value."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


@pytest.fixture
def outcome_webhook():
    """A staff endpoint subscribed to the jobs' outcomes: each stored outcome of a job records an event."""
    from webhooks.models import Webhook

    return Webhook.objects.create(
        url="https://hooks.example.org/labelhub",
        events=["imageset.finished", "imageset.failed", "export.succeeded", "export.failed"],
        secret="whsec_" + "A" * 43 + "=",
    )
