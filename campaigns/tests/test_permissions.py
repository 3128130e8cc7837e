"""A labeler key reaches only its own campaigns: every endpoint x own / other campaign / stray image."""

import pytest

from accounts.services import apikey_revoke
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, Submission
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import make_campaign, objects_body
from conftest import client_for
from core.exceptions import UNAUTHORIZED_DETAIL
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
Status = Campaign.Status


class World:
    """A labeler's own campaign, another agency's campaign and an image in no campaign."""

    def __init__(self):
        self.labeler = UserFactory(email="agency@example.com")
        self.other_labeler = UserFactory(email="rival@example.com")
        self.own = make_campaign(images=2, status=Status.ACTIVE, labeler=self.labeler, title="own-campaign")
        self.other = make_campaign(
            images=2,
            status=Status.ACTIVE,
            labeler=self.other_labeler,
            title="secret-campaign",
            metadata={"customer": "confidential"},
        )
        self.stray = ImageFactory(blobstorage_path="images/uploads/set/stray-secret.png")
        self.own_images = image_ids(self.own)
        self.other_images = image_ids(self.other)
        self.client = client_for(self.labeler)


@pytest.fixture
def world():
    return World()


def assert_unauthorized(response):
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": UNAUTHORIZED_DETAIL, "status": 401}


# (name, method, path, body, what the labeler may do with their own campaign / image)
ENDPOINTS = [
    ("list campaigns", "get", "campaigns", None),
    ("create campaign", "post", "campaigns", lambda w, c, i: {"title": "mine", "labeler_email": "me@example.com"}),
    ("campaign detail", "get", "campaigns/{campaign}", None),
    ("change status", "put", "campaigns/{campaign}", lambda w, c, i: {"new_status": "completed"}),
    ("add images", "post", "campaigns/{campaign}/images", lambda w, c, i: [{"id": w.stray.pk}]),
    ("list campaign images", "get", "campaigns/{campaign}/images", None),
    ("list campaign objects", "get", "campaigns/{campaign}/objects", None),
    ("submit objects", "put", "campaigns/{campaign}/objects", lambda w, c, i: objects_body([i])),
    ("image objects", "get", "images/{image}/objects", None),
    ("image", "get", "images/{image}", None),
    ("list reviews", "get", "campaigns/{campaign}/reviews", None),
    (
        "review images",
        "put",
        "campaigns/{campaign}/reviews",
        lambda w, c, i: [{"image_id": i, "decision": "rejected", "reason": "no"}],
    ),
    ("list samples", "get", "campaigns/{campaign}/samples", None),
    ("draw a sample", "post", "campaigns/{campaign}/samples", lambda w, c, i: {"size": 1}),
    ("sample", "get", "campaigns/{campaign}/samples/1", None),
    ("decide a lot", "post", "campaigns/{campaign}/samples/1/decision", lambda w, c, i: {"decision": "accept"}),
    ("campaign stats", "get", "campaigns/{campaign}/stats", None),
    (
        "load predictions",
        "put",
        "campaigns/{campaign}/predictions",
        lambda w, c, i: {"model": {"name": "m"}, "items": objects_body([i])},
    ),
    ("image predictions and objects", "get", "campaigns/{campaign}/images/{image}/objects", None),
    ("export files", "get", "campaigns/{campaign}/export", None),
    ("list gold images", "get", "campaigns/{campaign}/gold", None),
    ("give gold references", "put", "campaigns/{campaign}/gold", lambda w, c, i: {"items": objects_body([i])}),
    ("remove a gold image", "delete", "campaigns/{campaign}/gold/{image}", None),
    ("copy gold references", "post", "campaigns/{campaign}/gold/from_campaign", lambda w, c, i: {"campaign_id": 1}),
    ("campaign quality", "get", "campaigns/{campaign}/quality", None),
    ("agreement", "get", "campaigns/{campaign}/agreement?with=1", None),
    ("annotators", "get", "campaigns/{campaign}/annotators", None),
    ("next lot's inspection", "get", "campaigns/{campaign}/inspection", None),
    (
        "allow reduced inspection",
        "patch",
        "campaigns/{campaign}/inspection",
        lambda w, c, i: {"reduced_inspection": False},
    ),
    ("resume inspection", "post", "campaigns/{campaign}/inspection/resume", None),
]
LABELER_MAY = {
    "campaign detail",
    "list campaign images",
    "submit objects",
    "image",
    "image predictions and objects",
    "annotators",
}
# Paths naming no campaign: the labeler's own campaigns are all it gets, whichever the test meant.
LABELER_MAY_UNSCOPED = {"list campaigns"}


def _target(world, which):
    if which == "own":
        return world.own, world.own_images[0]
    if which == "other":
        return world.other, world.other_images[0]
    return world.other, world.stray.pk  # an image in no campaign of theirs


def _request(client, world, endpoint, which):
    name, method, path, body = endpoint
    campaign, image = _target(world, which)
    url = f"{API}/" + path.format(campaign=campaign.pk, image=image)
    data = body(world, campaign, image) if body else None
    if data is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data, format="json")


MATRIX = [
    pytest.param(endpoint, which, id=f"{endpoint[0]}-{which}")
    for endpoint in ENDPOINTS
    for which in ("own", "other", "stray")
    if which != "stray" or "{image}" in endpoint[2]
]


@pytest.mark.parametrize("endpoint, which", MATRIX)
def test_a_labeler_key_reaches_only_what_the_contract_allows(world, endpoint, which):
    name = endpoint[0]
    before = campaign_state()
    response = _request(world.client, world, endpoint, which)

    allowed = (name in LABELER_MAY and which == "own") or name in LABELER_MAY_UNSCOPED
    if not allowed:
        assert_unauthorized(response)
        assert campaign_state() == before
        return
    if name == "list campaigns":
        assert response.status_code == 200
        listed = response.json()["campaigns"]
        assert [c["campaign_id"] for c in listed] == [world.own.pk]
        assert set(listed[0]) == {"campaign_id", "title", "status", "progress", "label_translations", "labels"}
    elif name == "list campaign images":
        assert response.status_code == 200
        assert sorted(i["image_id"] for i in response.json()["images"]) == sorted(world.own_images)
    elif name == "submit objects":
        assert response.status_code == 200 and response.json() == "ok"
        assert Submission.objects.get().campaign == world.own
    elif name == "campaign detail":
        assert response.status_code == 200
        assert set(response.json()) == {"campaign_id", "title", "status", "progress", "label_translations", "labels"}
    elif name == "image predictions and objects":
        assert response.status_code == 200
        assert response.json()["image_id"] == world.own_images[0]
    elif name == "annotators":
        assert response.status_code == 200
        assert response.json()["campaign_id"] == world.own.pk
    elif name == "image":
        assert response.status_code == 303
        assert response["Location"]
    for secret in (
        "secret-campaign",
        "confidential",
        "rival@example.com",
        "stray-secret",
        *map(str, world.other_images),
    ):
        assert secret not in response.content.decode()


NAMING_A_CAMPAIGN_OR_IMAGE = [e for e in ENDPOINTS if e[0] not in LABELER_MAY_UNSCOPED]


@pytest.mark.parametrize("endpoint", NAMING_A_CAMPAIGN_OR_IMAGE, ids=[e[0] for e in NAMING_A_CAMPAIGN_OR_IMAGE])
def test_an_unknown_campaign_or_image_is_refused_like_a_foreign_one(world, endpoint):
    name, method, path, body = endpoint
    url = f"{API}/" + path.format(campaign=987654, image=987654)
    data = body(world, world.own, 987654) if body else None
    response = getattr(world.client, method)(url, data, format="json") if data else getattr(world.client, method)(url)
    assert_unauthorized(response)


def test_a_labeler_cannot_submit_objects_for_another_campaigns_image_through_their_own(world):
    before = campaign_state()
    response = world.client.put(
        f"{API}/campaigns/{world.own.pk}/objects",
        objects_body([world.own_images[0], world.other_images[0]]),
        format="json",
    )
    assert response.status_code == 404
    assert campaign_state() == before


def test_a_labeler_with_two_campaigns_reaches_both(world):
    second = make_campaign(images=1, status=Status.ACTIVE, labeler=world.labeler)
    second_images = image_ids(second)
    for campaign, images in [(world.own, world.own_images), (second, second_images)]:
        listed = world.client.get(f"{API}/campaigns/{campaign.pk}/images").json()["images"]
        assert sorted(i["image_id"] for i in listed) == sorted(images)
        response = world.client.put(f"{API}/campaigns/{campaign.pk}/objects", objects_body(images[:1]), format="json")
        assert response.status_code == 200
        assert world.client.get(f"{API}/images/{images[0]}").status_code == 303
    assert Submission.objects.filter(user=world.labeler).count() == 2
    assert_unauthorized(world.client.get(f"{API}/campaigns/{world.other.pk}/images"))


@pytest.mark.parametrize("lock_out", ["disable-user", "revoke-key"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_a_disabled_user_or_revoked_key_reaches_nothing(world, endpoint, lock_out):
    if lock_out == "disable-user":
        world.labeler.is_active = False
        world.labeler.save()
    else:
        apikey_revoke(api_key=world.client.issued.api_key)
    before = campaign_state()
    assert_unauthorized(_request(world.client, world, endpoint, "own"))
    assert campaign_state() == before


def test_a_disabled_admin_reaches_nothing(admin_user, admin_client, world):
    admin_user.is_active = False
    admin_user.save()
    assert_unauthorized(admin_client.get(f"{API}/campaigns"))
    assert_unauthorized(admin_client.get(f"{API}/campaigns/{world.own.pk}/images"))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_a_request_without_a_key_is_unauthorized(api_client, world, endpoint):
    before = campaign_state()
    assert_unauthorized(_request(api_client, world, endpoint, "own"))
    assert campaign_state() == before


def test_an_admin_reaches_every_campaign(admin_client, world):
    for campaign in (world.own, world.other):
        assert admin_client.get(f"{API}/campaigns/{campaign.pk}").status_code == 200
        assert admin_client.get(f"{API}/campaigns/{campaign.pk}/images").status_code == 200
        assert admin_client.get(f"{API}/campaigns/{campaign.pk}/objects").status_code == 200


@pytest.mark.parametrize("campaign_id", [2**63, 2**64])
def test_a_labeler_naming_a_campaign_id_beyond_any_row_is_refused_not_an_error(labeler_client, campaign_id):
    response = labeler_client.get(f"/api/v1/campaigns/{campaign_id}/images")
    assert response.status_code == 401
    assert response.json()["detail"]
