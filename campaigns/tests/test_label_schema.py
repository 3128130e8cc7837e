"""A campaign's label schema: set at creation or in the admin, read by its agency, enforced on submission."""

import pytest

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, Submission
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import make_campaign, new_object, objects_body
from conftest import client_for
from testing.api import assert_error
from testing.state import stored_state

pytestmark = pytest.mark.django_db

API = "/api/v1"
Status = Campaign.Status
SCHEMA = [
    {"name": "Plastic", "colour": "#1F77B4", "description": "Any plastic item"},
    {"name": "Glass"},
]
STORED_SCHEMA = [
    {"name": "Plastic", "colour": "#1f77b4", "description": "Any plastic item"},
    {"name": "Glass", "colour": None, "description": None},
]


def create_body(**fields):
    return {"title": "beach-2024", "labeler_email": "agency@example.com", **fields}


def test_a_campaign_is_created_with_its_label_schema(admin_client):
    response = admin_client.post(f"{API}/campaigns", create_body(labels=SCHEMA), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["labels"] == STORED_SCHEMA
    assert Campaign.objects.get().labels == STORED_SCHEMA
    assert admin_client.get(f"{API}/campaigns/{response.json()['campaign_id']}").json()["labels"] == STORED_SCHEMA


def test_a_campaign_created_without_labels_takes_any_label(admin_client):
    response = admin_client.post(f"{API}/campaigns", create_body(), format="json")

    assert response.json()["labels"] is None


TOO_LONG = "x" * 129


@pytest.mark.parametrize(
    "labels, code, detail",
    [
        ({"name": "Plastic"}, 400, "must be a list"),
        ("Plastic", 400, "must be a list"),
        (["Plastic"], 400, "item 0: expected an object"),
        ([{"colour": "#000000"}], 400, "'name' is required"),
        ([{"name": 3}], 400, "'name' is required"),
        ([{"name": "a", "color": "#000000"}], 400, "unknown field"),
        ([{"name": "a", "colour": 5}], 400, "'colour' must be a string"),
        ([{"name": "a", "description": []}], 400, "'description' must be a string"),
        ([{"name": "a\u0000b"}], 400, "NUL"),
        ([{"name": ""}], 422, "'name' must be 1-128"),
        ([{"name": "   "}], 422, "not blank"),
        ([{"name": TOO_LONG}], 422, "'name' must be 1-128"),
        ([{"name": "a"}, {"name": "a"}], 422, "item 1: 'a' is listed more than once"),
        ([{"name": "a", "colour": "red"}], 422, "must be #rrggbb"),
        ([{"name": "a", "colour": "#12345"}], 422, "must be #rrggbb"),
        ([{"name": "a", "colour": "#1234567"}], 422, "must be #rrggbb"),
        ([{"name": "a", "description": "d" * 1001}], 422, "at most 1000"),
    ],
)
def test_a_bad_label_schema_is_refused_and_nothing_is_stored(admin_client, labels, code, detail):
    before = stored_state()
    response = admin_client.post(f"{API}/campaigns", create_body(labels=labels), format="json")

    assert_error(response, code, detail)
    assert stored_state() == before


def test_more_labels_than_the_limit_are_refused(admin_client, settings):
    settings.LABEL_SCHEMA_MAX = 3
    before = stored_state()
    response = admin_client.post(
        f"{API}/campaigns", create_body(labels=[{"name": str(i)} for i in range(4)]), format="json"
    )

    body = assert_error(response, 422, "at most 3")
    assert body["limit"] == 3
    assert stored_state() == before


# --- submissions ------------------------------------------------------------------------


@pytest.fixture
def agency():
    return UserFactory(email="agency@example.com")


def schema_campaign(agency, **fields):
    return make_campaign(images=3, status=Status.ACTIVE, labeler=agency, labels=STORED_SCHEMA, **fields)


def test_objects_outside_the_schema_are_refused_naming_image_object_and_allowed_labels(agency):
    campaign = schema_campaign(agency)
    ids = image_ids(campaign)
    body = [
        {"image_id": ids[0], "objects": [new_object("Plastic")]},
        {"image_id": ids[1], "objects": [new_object("Glass"), new_object("Metal")]},
    ]
    client = client_for(agency)
    before = stored_state()

    response = client.put(f"{API}/campaigns/{campaign.pk}/objects", body, format="json")

    error = assert_error(response, 422, f"Image {ids[1]}, object 1: label 'Metal' is not one of")
    assert error["image_id"] == ids[1] and error["object_index"] == 1
    assert error["allowed_labels"] == ["Plastic", "Glass"]
    assert stored_state() == before


def test_the_schema_checks_the_label_after_translation(agency):
    campaign = schema_campaign(agency, label_translations={"PET": "Plastic", "Glas": "Bottle"})
    ids = image_ids(campaign)
    client = client_for(agency)

    accepted = client.put(
        f"{API}/campaigns/{campaign.pk}/objects",
        [
            {"image_id": ids[0], "objects": [new_object("PET")]},
            {"image_id": ids[1], "objects": [new_object("Metall", label_translated="Glass")]},
        ],
        format="json",
    )
    assert accepted.status_code == 200, accepted.content
    before = stored_state()
    refused = client.put(
        f"{API}/campaigns/{campaign.pk}/objects", [{"image_id": ids[2], "objects": [new_object("Glas")]}], format="json"
    )
    assert_error(refused, 422, "label 'Bottle' is not one of")
    assert stored_state() == before


def test_without_a_schema_any_label_is_stored(agency):
    campaign = make_campaign(images=1, status=Status.ACTIVE, labeler=agency)

    response = client_for(agency).put(
        f"{API}/campaigns/{campaign.pk}/objects", objects_body(image_ids(campaign), label="Anything"), format="json"
    )

    assert response.status_code == 200
    assert Submission.objects.get().boxes.get().label == "Anything"


# --- the agency reads its campaign --------------------------------------------------------


def test_the_agency_reads_its_campaign_with_only_what_labeling_needs(agency, django_assert_num_queries):
    campaign = schema_campaign(agency, metadata={"customer": "confidential"}, label_translations={"PET": "Plastic"})
    client = client_for(agency)
    client.get(f"{API}/campaigns/{campaign.pk}")  # the key's first use is recorded once

    # The key (1), the binding (1), the campaign with its progress (1).
    with django_assert_num_queries(3):
        response = client.get(f"{API}/campaigns/{campaign.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "campaign_id": campaign.pk,
        "title": campaign.title,
        "status": "active",
        "progress": {"done": 0, "total": 3},
        "label_translations": {"PET": "Plastic"},
        "labels": STORED_SCHEMA,
    }


def test_the_agency_cannot_read_another_campaign_nor_change_its_own(agency):
    own = schema_campaign(agency)
    other = make_campaign(images=1, labeler=UserFactory(), title="secret-campaign", labels=[{"name": "Secret"}])
    client = client_for(agency)
    before = stored_state()

    assert_error(client.get(f"{API}/campaigns/{other.pk}"), 401)
    assert_error(client.get(f"{API}/campaigns/987654"), 401)
    assert_error(client.put(f"{API}/campaigns/{own.pk}", {"new_status": "completed"}, format="json"), 401)
    assert stored_state() == before


# --- the admin ----------------------------------------------------------------------------

FORMSETS = {
    "labeler_links-TOTAL_FORMS": "0",
    "labeler_links-INITIAL_FORMS": "0",
    "campaign_images-TOTAL_FORMS": "0",
    "campaign_images-INITIAL_FORMS": "0",
}


def edit(client, campaign, labels: str):
    return client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {"metadata": "", "label_translations": "", "labels": labels, **FORMSETS},
    )


def test_the_admin_sets_the_schema_while_the_campaign_is_created(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    campaign = make_campaign(images=1)

    response = edit(client, campaign, '[{"name": "Plastic"}]')

    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    assert campaign.labels == [{"name": "Plastic", "colour": None, "description": None}]

    refused = edit(client, campaign, '[{"name": "a"}, {"name": "a"}]')
    assert refused.status_code == 200 and "listed more than once" in refused.content.decode()
    campaign.refresh_from_db()
    assert campaign.labels == [{"name": "Plastic", "colour": None, "description": None}]


def test_the_admin_shows_the_schema_read_only_once_labeling_started(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    campaign = make_campaign(images=1, status=Status.ACTIVE, labels=STORED_SCHEMA)

    response = edit(client, campaign, "[]")

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.labels == STORED_SCHEMA
