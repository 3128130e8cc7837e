import math
import re
from unittest import mock

import pytest

from accounts.models import ApiKey, User
from accounts.services import apikey_issue, secret_matches
from accounts.tests.factories import UserFactory
from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignJob, Submission
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignImageFactory,
    box,
    make_campaign,
    new_object,
    objects_body,
    replace_objects_from_body,
)
from conftest import client_for
from imagesets.tests.factories import ImageFactory
from testing.api import assert_error

pytestmark = pytest.mark.django_db

Status = Campaign.Status
API = "/api/v1"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
CAMPAIGN_KEYS = {
    "campaign_id",
    "title",
    "status",
    "review_required",  # added
    "aql",  # added
    "gold_min_f1",  # added (staff only)
    "progress",
    "metadata",
    "label_translations",
    "labels",
    "date_created",
    "date_started",
    "date_completed",
    "date_finished",
    "created_by",
    "job",
}


# --- POST /campaigns ---------------------------------------------------------------------


def test_creating_a_campaign_answers_the_representation_with_a_new_labelers_key(admin_client):
    response = admin_client.post(
        f"{API}/campaigns",
        {
            "title": "campaign-26-10-2020",
            "metadata": {"to_be_used_for": "New train set"},
            "labeler_email": "new_user@example.com",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CAMPAIGN_KEYS | {"access_token"}
    campaign = Campaign.objects.get()
    assert body["campaign_id"] == campaign.pk
    assert body["title"] == "campaign-26-10-2020"
    assert body["status"] == "created"
    assert body["progress"] == {"done": 0, "total": 0}
    assert body["metadata"] == {"to_be_used_for": "New train set"}
    assert body["label_translations"] is None
    assert ISO_Z.match(body["date_created"])
    assert body["date_started"] is None and body["date_completed"] is None and body["date_finished"] is None
    assert body["created_by"] == "jayke@test.com"
    assert body["job"] is None
    token = body["access_token"]
    assert set(token) == {"apikey", "apisecret"}
    labeler = User.objects.get(email="new_user@example.com")
    key = labeler.api_keys.get()
    assert token["apikey"] == key.key
    assert secret_matches(token["apisecret"], key.secret_hash)


def test_the_returned_key_works_for_the_labeler(admin_client, api_client):
    image = ImageFactory()
    body = admin_client.post(
        f"{API}/campaigns", {"title": "c", "labeler_email": "agency@example.com"}, format="json"
    ).json()
    admin_client.post(f"{API}/campaigns/{body['campaign_id']}/images", [{"id": image.pk}], format="json")
    api_client.credentials(
        HTTP_AUTHENTICATION_KEY=body["access_token"]["apikey"],
        HTTP_AUTHENTICATION_SECRET=body["access_token"]["apisecret"],
    )
    response = api_client.get(f"{API}/campaigns/{body['campaign_id']}/images")
    assert response.status_code == 200
    assert response.json()["images"] == [
        {
            "image_id": image.pk,
            "url": f"/images/{image.pk}",
            "labeled": False,
            "review": None,
            "width": image.width,
            "height": image.height,
        }
    ]


def test_an_existing_labeler_gets_their_key_with_a_null_secret(admin_client):
    labeler = UserFactory(email="agency@example.com")
    issued = apikey_issue(user=labeler)
    body = admin_client.post(
        f"{API}/campaigns",
        {"title": "c", "labeler_email": "AGENCY@example.com", "label_translations": {"Plastic": "PET"}},
        format="json",
    ).json()
    assert body["access_token"] == {"apikey": issued.apikey, "apisecret": None}
    assert body["label_translations"] == {"Plastic": "PET"}


@pytest.mark.parametrize(
    "body, status",
    [
        pytest.param({"title": "Bad Title", "labeler_email": "a@example.com"}, 422, id="invalid-title"),
        pytest.param({"title": "", "labeler_email": "a@example.com"}, 422, id="empty-title"),
        pytest.param({"labeler_email": "a@example.com"}, 400, id="title-missing"),
        pytest.param({"title": 5, "labeler_email": "a@example.com"}, 400, id="title-a-number"),
        pytest.param({"title": "ok"}, 400, id="email-missing"),
        pytest.param({"title": "ok", "labeler_email": "nope"}, 400, id="email-invalid"),
        pytest.param({"title": "ok", "labeler_email": "a@example.com", "metadata": [1]}, 400, id="metadata-list"),
        pytest.param(
            {"title": "ok", "labeler_email": "a@example.com", "label_translations": "x"}, 400, id="translations-string"
        ),
        pytest.param([{"title": "ok"}], 400, id="body-a-list"),
        pytest.param("ok", 400, id="body-a-string"),
    ],
)
def test_a_bad_campaign_body_is_rejected_and_nothing_is_stored(admin_client, body, status):
    before = campaign_state()
    assert_error(admin_client.post(f"{API}/campaigns", body, format="json"), status)
    assert campaign_state() == before


def test_a_body_that_is_not_json_is_a_400(admin_client):
    before = campaign_state()
    response = admin_client.post(f"{API}/campaigns", "{not json", content_type="application/json")
    assert_error(response, 400)
    assert campaign_state() == before


def test_a_duplicate_title_is_a_409(admin_client):
    CampaignFactory(title="taken")
    before = campaign_state()
    body = assert_error(
        admin_client.post(f"{API}/campaigns", {"title": "taken", "labeler_email": "a@example.com"}, format="json"),
        409,
    )
    assert "taken" in body["detail"]
    assert campaign_state() == before


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_superuser": True}], ids=["staff", "superuser"])
def test_a_staff_email_is_a_409_that_issues_no_key_and_stores_nothing(admin_client, flags):
    UserFactory(email="boss@example.com", **flags)
    before = campaign_state(), list(ApiKey.objects.order_by("pk").values_list("pk", "key", "secret_hash"))
    body = assert_error(
        admin_client.post(f"{API}/campaigns", {"title": "c", "labeler_email": "Boss@EXAMPLE.com"}, format="json"),
        409,
    )
    assert "staff account" in body["detail"] and "boss@example.com" in body["detail"]
    assert (campaign_state(), list(ApiKey.objects.order_by("pk").values_list("pk", "key", "secret_hash"))) == before


def test_the_image_admins_own_email_gets_no_campaign_and_keeps_its_secret(admin_client):
    before = list(ApiKey.objects.values_list("pk", "key", "secret_hash", "rotated_at", "revoked_at"))
    assert_error(
        admin_client.post(f"{API}/campaigns", {"title": "c", "labeler_email": "JAYKE@test.com"}, format="json"), 409
    )
    assert list(ApiKey.objects.values_list("pk", "key", "secret_hash", "rotated_at", "revoked_at")) == before
    assert not Campaign.objects.exists()
    # The key still authenticates with the secret the admin holds.
    assert admin_client.get(f"{API}/campaigns").status_code == 200


# --- GET /campaigns, GET /campaigns/{id} ----------------------------------------------------


def test_campaigns_are_listed_by_id_ten_per_page_with_progress(admin_client):
    campaigns = [make_campaign(images=2) for _ in range(12)]
    CampaignImage.objects.filter(pk=campaigns[0].campaign_images.first().pk).update(labeled=True)
    body = admin_client.get(f"{API}/campaigns").json()
    assert body["pagination"] == {"page": 1, "pages": 2, "total": 12, "per_page": 10, "next": 2, "prev": None}
    assert [c["campaign_id"] for c in body["campaigns"]] == [c.pk for c in campaigns[:10]]
    assert body["campaigns"][0]["progress"] == {"done": 1, "total": 2}
    assert body["campaigns"][1]["progress"] == {"done": 0, "total": 2}
    page2 = admin_client.get(f"{API}/campaigns?page=2").json()
    assert [c["campaign_id"] for c in page2["campaigns"]] == [c.pk for c in campaigns[10:]]
    assert admin_client.get(f"{API}/campaigns?page=5").json()["campaigns"] == []


def test_a_campaign_is_shown_with_its_progress_and_export_job(admin_client):
    campaign = make_campaign(images=4, status=Status.FINISHED, metadata={"k": "v"})
    CampaignImage.objects.filter(campaign=campaign).update(labeled=True)
    CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.FAILED, error="boom", done=1, total=3)
    body = admin_client.get(f"{API}/campaigns/{campaign.pk}").json()
    assert set(body) == CAMPAIGN_KEYS
    assert body["progress"] == {"done": 4, "total": 4}
    assert body["metadata"] == {"k": "v"}
    assert body["created_by"] is None
    job = body["job"]
    assert job["status"] == "failed"
    assert job["progress"] == {"done": 1, "total": 3}
    assert job["error"] == "boom"
    assert job["date_done"] is None


def test_an_unknown_campaign_is_a_404_for_the_admin(admin_client):
    for method, url in [
        ("get", f"{API}/campaigns/999"),
        ("put", f"{API}/campaigns/999"),
        ("get", f"{API}/campaigns/999/images"),
        ("post", f"{API}/campaigns/999/images"),
        ("get", f"{API}/campaigns/999/objects"),
        ("put", f"{API}/campaigns/999/objects"),
    ]:
        data = {"new_status": "active"} if (method, url) == ("put", f"{API}/campaigns/999") else []
        response = getattr(admin_client, method)(url, data, format="json")
        assert_error(response, 404)


@pytest.mark.parametrize("path", ["campaigns/", "campaigns/abc", "campaigns/1/images/"])
def test_a_path_outside_the_contract_is_a_json_404(admin_client, path):
    response = admin_client.get(f"{API}/{path}")
    assert response.status_code == 404
    assert response.json()["detail"]


# --- PUT /campaigns/{id} -----------------------------------------------------------------


def test_the_status_flow_of_the_contract(admin_client, django_capture_on_commit_callbacks):
    campaign = make_campaign(images=1)
    url = f"{API}/campaigns/{campaign.pk}"
    response = admin_client.put(url, {"new_status": "active"}, format="json")
    assert response.status_code == 200 and response.json() == "ok"
    assert admin_client.get(url).json()["date_started"] is not None
    assert_error(admin_client.put(url, {"new_status": "finished"}, format="json"), 409)
    assert admin_client.put(url, {"new_status": "completed"}, format="json").json() == "ok"
    assert admin_client.put(url, {"new_status": "active"}, format="json").json() == "ok"
    assert admin_client.get(url).json()["date_completed"] is None
    assert admin_client.put(url, {"new_status": "completed"}, format="json").json() == "ok"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert admin_client.put(url, {"new_status": "finished"}, format="json").json() == "ok"
    assert len(callbacks) == 1
    body = admin_client.get(url).json()
    assert body["status"] == "finished" and body["date_finished"] is not None
    assert body["job"]["status"] == "queued"


def test_finishing_an_active_campaign_is_a_409_and_queues_no_export(admin_client, django_capture_on_commit_callbacks):
    campaign = make_campaign(images=1, status=Status.ACTIVE)
    before = campaign_state()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert_error(admin_client.put(f"{API}/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json"), 409)
    assert callbacks == []
    assert campaign_state() == before


@pytest.mark.parametrize(
    "body", [{"new_status": "archived"}, {}, {"new_status": None}, {"new_status": 1}, ["active"], "active"]
)
def test_a_bad_status_body_is_a_400(admin_client, body):
    campaign = CampaignFactory()
    before = campaign_state()
    assert_error(admin_client.put(f"{API}/campaigns/{campaign.pk}", body, format="json"), 400)
    assert campaign_state() == before


# --- /campaigns/{id}/images ---------------------------------------------------------------


def test_images_are_added_and_listed_with_their_url(admin_client):
    campaign = CampaignFactory()
    images = ImageFactory.create_batch(3)
    response = admin_client.post(
        f"{API}/campaigns/{campaign.pk}/images",
        [{"id": images[0].pk}, {"id": images[1].pk}, {"filepath": images[2].blobstorage_path}],
        format="json",
    )
    assert response.status_code == 200 and response.json() == "ok"
    body = admin_client.get(f"{API}/campaigns/{campaign.pk}/images").json()
    assert body["pagination"] == {"page": 1, "pages": 1, "total": 3, "per_page": 1000, "next": None, "prev": None}
    assert body["images"] == [
        {
            "image_id": i.pk,
            "url": f"/images/{i.pk}",
            "labeled": False,
            "review": None,
            "width": i.width,
            "height": i.height,
        }
        for i in images
    ]
    assert admin_client.get(f"{API}/campaigns/{campaign.pk}").json()["progress"] == {"done": 0, "total": 3}


def test_an_unknown_image_is_a_404_naming_it_and_nothing_is_added(admin_client):
    campaign = CampaignFactory()
    known = ImageFactory()
    before = campaign_state()
    body = assert_error(
        admin_client.post(f"{API}/campaigns/{campaign.pk}/images", [{"id": known.pk}, {"id": 424242}], format="json"),
        404,
    )
    assert "Unknown image provided" in body["detail"] and "424242" in body["detail"]
    assert campaign_state() == before


def test_adding_images_to_an_active_campaign_is_a_409(admin_client):
    campaign = CampaignFactory(status=Status.ACTIVE)
    image = ImageFactory()
    before = campaign_state()
    assert_error(admin_client.post(f"{API}/campaigns/{campaign.pk}/images", [{"id": image.pk}], format="json"), 409)
    assert campaign_state() == before


@pytest.mark.parametrize("body", [{"id": 1}, [1, 2], [{"image": 1}], [{"id": "1"}], "x"])
def test_a_malformed_image_list_is_a_400(admin_client, body):
    campaign = CampaignFactory()
    ImageFactory(pk=1)
    before = campaign_state()
    assert_error(admin_client.post(f"{API}/campaigns/{campaign.pk}/images", body, format="json"), 400)
    assert campaign_state() == before


def test_campaign_images_are_paginated(admin_client):
    campaign = make_campaign(images=5)
    body = admin_client.get(f"{API}/campaigns/{campaign.pk}/images?per_page=2&page=3").json()
    assert body["pagination"]["pages"] == 3
    assert [i["image_id"] for i in body["images"]] == image_ids(campaign)[4:]


# --- /campaigns/{id}/objects --------------------------------------------------------------


def test_objects_are_submitted_and_listed_per_image(admin_client, labeler_user):
    campaign = make_campaign(images=3, status=Status.ACTIVE, labeler=labeler_user)
    first, second, third = image_ids(campaign)
    from conftest import client_for

    labeler = client_for(labeler_user)
    response = labeler.put(
        f"{API}/campaigns/{campaign.pk}/objects",
        [
            {
                "image_id": first,
                "objects": [
                    {"label": "Plastic", "confidence": 1, "bounding_box": box(13, 57, 123, 198)},
                    {"label": "Organic", "confidence": 0.56, "bounding_box": box(26, 98, 12, 54)},
                ],
            },
            {"image_id": second, "objects": []},
        ],
        format="json",
    )
    assert response.status_code == 200 and response.json() == "ok"
    submission = Submission.objects.get()
    assert submission.user == labeler_user and submission.api_key == labeler.issued.api_key

    body = admin_client.get(f"{API}/campaigns/{campaign.pk}/objects").json()
    assert body["pagination"]["per_page"] == 1000 and body["pagination"]["total"] == 3
    assert [(i["image_id"], i["url"]) for i in body["images"]] == [(i, f"/images/{i}") for i in (first, second, third)]
    plastic, organic = body["images"][0]["objects"]
    assert set(plastic) == {
        "object_id",
        "image_id",
        "campaign_id",
        "label",
        "label_original",
        "confidence",
        "bounding_box",
        "date_added",
    }
    assert plastic["image_id"] == first and plastic["campaign_id"] == campaign.pk
    assert (plastic["label"], plastic["label_original"], plastic["confidence"]) == ("Plastic", "Plastic", 1.0)
    assert plastic["bounding_box"] == {"xmin": 13, "xmax": 57, "ymin": 123, "ymax": 198}
    assert ISO_Z.match(plastic["date_added"])
    assert organic["label"] == "Organic" and organic["confidence"] == 0.56
    assert body["images"][1]["objects"] == [] and body["images"][2]["objects"] == []
    assert admin_client.get(f"{API}/campaigns/{campaign.pk}").json()["progress"] == {"done": 2, "total": 3}


def test_a_put_overwrites_and_the_listing_shows_only_current_objects(admin_client):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    image = image_ids(campaign)[0]
    url = f"{API}/campaigns/{campaign.pk}/objects"
    admin_client.put(url, objects_body([image], 3, "Old"), format="json")
    admin_client.put(url, objects_body([image], 1, "New"), format="json")
    objects = admin_client.get(url).json()["images"][0]["objects"]
    assert [o["label"] for o in objects] == ["New"]
    assert BoundingBox.objects.count() == 4


def test_labeling_every_image_completes_the_campaign(admin_client):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    admin_client.put(f"{API}/campaigns/{campaign.pk}/objects", objects_body(image_ids(campaign)), format="json")
    body = admin_client.get(f"{API}/campaigns/{campaign.pk}").json()
    assert body["status"] == "completed" and body["date_completed"] is not None
    assert body["progress"] == {"done": 2, "total": 2}
    assert_error(
        admin_client.put(f"{API}/campaigns/{campaign.pk}/objects", objects_body(image_ids(campaign)), format="json"),
        409,
    )


def test_an_image_not_in_the_campaign_is_a_404_and_nothing_is_stored(admin_client):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    stranger = ImageFactory()
    before = campaign_state()
    body = assert_error(
        admin_client.put(
            f"{API}/campaigns/{campaign.pk}/objects", objects_body([image_ids(campaign)[0], stranger.pk]), format="json"
        ),
        404,
    )
    assert str(stranger.pk) in body["detail"]
    assert body["image_id"] == stranger.pk
    assert campaign_state() == before


@pytest.mark.parametrize(
    "objects, status",
    [
        pytest.param([new_object(confidence=1.5)], 422, id="confidence"),
        pytest.param([new_object(bounding_box=box(xmin=30, xmax=20))], 422, id="xmin-above-xmax"),
        pytest.param([new_object(bounding_box=box(xmax=201))], 422, id="outside-image"),
        pytest.param([new_object(label="")], 422, id="empty-label"),
        pytest.param([new_object(bounding_box={"xmin": 1})], 400, id="box-incomplete"),
        pytest.param([{"bounding_box": box()}], 400, id="label-missing"),
        pytest.param([new_object(confidence="high")], 400, id="confidence-string"),
    ],
)
def test_an_invalid_object_answers_naming_image_and_object_and_nothing_is_stored(admin_client, objects, status):
    campaign = make_campaign(images=2, status=Status.ACTIVE)
    first, second = image_ids(campaign)
    before = campaign_state()
    body = assert_error(
        admin_client.put(
            f"{API}/campaigns/{campaign.pk}/objects",
            [{"image_id": first, "objects": [new_object()]}, {"image_id": second, "objects": objects}],
            format="json",
        ),
        status,
    )
    assert f"Image {second}, object 0" in body["detail"]
    assert (body["image_id"], body["object_index"]) == (second, 0)
    assert campaign_state() == before


@pytest.mark.parametrize(
    "body",
    [
        {"image_id": 1, "objects": []},
        [1],
        [{"image_id": "1", "objects": []}],
        "x",
        None,
        [{"image_id": 1, "objects": "none"}],
    ],
)
def test_a_malformed_objects_body_is_a_400(admin_client, body):
    campaign = make_campaign(images=1, status=Status.ACTIVE)
    before = campaign_state()
    assert_error(admin_client.put(f"{API}/campaigns/{campaign.pk}/objects", body, format="json"), 400)
    assert campaign_state() == before


@pytest.mark.parametrize("status", [Status.CREATED, Status.COMPLETED, Status.FINISHED])
def test_objects_unless_active_are_a_409(admin_client, status):
    campaign = make_campaign(images=1, status=status)
    before = campaign_state()
    assert_error(
        admin_client.put(f"{API}/campaigns/{campaign.pk}/objects", objects_body(image_ids(campaign)), format="json"),
        409,
    )
    assert campaign_state() == before


# --- GET /images/{id}/objects ---------------------------------------------------------------


def _labeled_in(image, label, status=Status.ACTIVE):
    campaign = CampaignFactory(status=Status.ACTIVE)
    CampaignImageFactory(campaign=campaign, image=image)
    CampaignImageFactory(campaign=campaign)
    replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image.pk], 1, label), user=None)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    return campaign


def test_image_objects_follow_the_listed_campaigns_in_order(admin_client):
    image = ImageFactory()
    first = _labeled_in(image, "First")
    second = _labeled_in(image, "Second")
    url = f"{API}/images/{image.pk}/objects"
    body = admin_client.get(f"{url}?campaigns={second.pk}&campaigns={first.pk}").json()
    assert [o["label"] for o in body] == ["Second"]
    assert body[0]["campaign_id"] == second.pk and body[0]["image_id"] == image.pk
    assert [o["label"] for o in admin_client.get(f"{url}?campaigns={first.pk},{second.pk}").json()] == ["First"]


def test_image_objects_default_to_the_latest_finished_campaign(admin_client):
    image = ImageFactory()
    url = f"{API}/images/{image.pk}/objects"
    _labeled_in(image, "Active")
    assert admin_client.get(url).json() == []
    _labeled_in(image, "Done", status=Status.FINISHED)
    assert [o["label"] for o in admin_client.get(url).json()] == ["Done"]


@pytest.mark.parametrize("query", ["?campaigns=abc", "?campaigns=1.5", "?campaigns=-3", "?campaigns=" + "9" * 5000])
def test_a_malformed_campaigns_parameter_is_a_400(admin_client, query):
    image = ImageFactory()
    assert_error(admin_client.get(f"{API}/images/{image.pk}/objects{query}"), 400)


def test_an_unknown_image_or_campaign_is_a_404(admin_client):
    image = ImageFactory()
    assert_error(admin_client.get(f"{API}/images/{image.pk + 1000}/objects"), 404)
    body = assert_error(admin_client.get(f"{API}/images/{image.pk}/objects?campaigns=99999"), 404)
    assert "99999" in body["detail"]
    assert_error(admin_client.get(f"{API}/images/{image.pk}/objects?campaigns={2**80}"), 404)


@pytest.mark.parametrize("raw", ["1.0", "1e0", "+1", "\u00b2", " ", "0x1", "true"])
def test_a_campaign_id_in_the_query_that_is_not_digits_is_a_400(admin_client, raw):
    image = ImageFactory()
    response = admin_client.get(f"{API}/images/{image.pk}/objects", {"campaigns": raw})

    if raw == " ":  # blank parts are skipped: no campaign listed
        assert response.status_code == 200
    else:
        assert_error(response, 400, "'campaigns' must be campaign ids")


@pytest.mark.parametrize("raw", ["0", str(2**63), str(2**80)])
def test_a_campaign_id_in_the_query_naming_no_campaign_is_a_404(admin_client, raw):
    image = ImageFactory()
    response = admin_client.get(f"{API}/images/{image.pk}/objects", {"campaigns": raw})

    assert_error(response, 404, f"Campaign {raw} not found")


# --- query counts ------------------------------------------------------------------------------


def _warm(client):
    """The first request of a key records its use; later ones do not."""
    client.get(f"{API}/campaigns")


def test_listing_campaigns_takes_the_same_queries_for_2_and_20(
    admin_client, django_assert_num_queries, django_assert_max_num_queries
):
    _warm(admin_client)
    for _ in range(2):
        make_campaign(images=2, labeler=UserFactory())
    with django_assert_max_num_queries(4) as captured:
        response = admin_client.get(f"{API}/campaigns?per_page=100")
    few = len(captured)
    assert response.status_code == 200, response.content
    for _ in range(18):
        make_campaign(images=3, labeler=UserFactory())
    with django_assert_num_queries(few):
        response = admin_client.get(f"{API}/campaigns?per_page=100")
    assert len(response.json()["campaigns"]) == 20


@pytest.mark.parametrize(
    "method, path, labeled",
    [("get", "images", False), ("get", "objects", True)],
)
def test_campaign_lists_take_the_same_queries_for_2_and_20_images(
    admin_client, django_assert_num_queries, django_assert_max_num_queries, method, path, labeled
):
    _warm(admin_client)

    def campaign_of(n):
        campaign = make_campaign(images=n + 1, status=Status.ACTIVE)
        if labeled:
            replace_objects_from_body(
                campaign_id=campaign.pk, items=objects_body(image_ids(campaign)[:n], 3), user=None
            )
        return campaign

    campaign = campaign_of(2)
    with django_assert_max_num_queries(5) as captured:
        response = getattr(admin_client, method)(f"{API}/campaigns/{campaign.pk}/{path}")
    few = len(captured)
    assert response.status_code == 200, response.content
    campaign = campaign_of(20)
    with django_assert_num_queries(few):
        response = getattr(admin_client, method)(f"{API}/campaigns/{campaign.pk}/{path}")
    assert response.status_code == 200, response.content


def test_image_objects_take_few_queries(admin_client, django_assert_max_num_queries):
    _warm(admin_client)
    image = ImageFactory()
    campaigns = [_labeled_in(image, f"L{i}") for i in range(5)]
    replace_objects_from_body(campaign_id=campaigns[-1].pk, items=objects_body([image.pk], 20), user=None)
    ids = ",".join(str(c.pk) for c in reversed(campaigns))
    with django_assert_max_num_queries(5):
        response = admin_client.get(f"{API}/images/{image.pk}/objects?campaigns={ids}")
    assert len(response.json()) == 20


def test_put_objects_takes_the_same_queries_for_2_and_20_images(
    admin_client, django_assert_num_queries, django_assert_max_num_queries
):
    _warm(admin_client)

    def objects_of(n):
        """The objects URL of a new active campaign, and objects for n of its images (one stays unlabeled)."""
        campaign = make_campaign(images=n + 1, status=Status.ACTIVE)
        return f"{API}/campaigns/{campaign.pk}/objects", objects_body(image_ids(campaign)[:n], 3)

    url, body = objects_of(2)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 20 images must take no more
        response = admin_client.put(url, body, format="json")
    few = len(captured)
    assert response.status_code == 200, response.content
    url, body = objects_of(20)
    with django_assert_num_queries(few):
        response = admin_client.put(url, body, format="json")
    assert response.status_code == 200, response.content


def test_post_images_takes_the_same_queries_for_2_and_20_images(
    admin_client, django_assert_num_queries, django_assert_max_num_queries
):
    _warm(admin_client)

    def images_of(n):
        """The images URL of a new campaign, and n new images to add."""
        campaign = CampaignFactory()
        return f"{API}/campaigns/{campaign.pk}/images", [{"id": i.pk} for i in ImageFactory.create_batch(n)]

    url, body = images_of(2)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 20 images must take no more
        response = admin_client.post(url, body, format="json")
    few = len(captured)
    assert response.status_code == 200, response.content
    url, body = images_of(20)
    with django_assert_num_queries(few):
        response = admin_client.post(url, body, format="json")
    assert response.status_code == 200, response.content


def test_the_export_is_queued_with_the_campaign_id(admin_client, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(status=Status.COMPLETED)
    with mock.patch("core.jobs.queue.async_task", return_value="abc") as queue:
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.put(f"{API}/campaigns/{campaign.pk}", {"new_status": "finished"}, format="json")
    queue.assert_called_once()
    assert queue.call_args.args == ("campaigns.tasks.campaign_export_run", campaign.pk)
    job = admin_client.get(f"{API}/campaigns/{campaign.pk}").json()["job"]
    assert job["status"] == "queued" and ISO_Z.match(job["date_queued"])


# --- inputs the schemathesis fuzz (labelhub/tests/test_fuzz.py) turned up: each was a 500 ---


@pytest.mark.parametrize("suffix", ["", "/objects", "/images"])
def test_options_on_a_campaign_is_a_json_405_not_a_500(admin_client, suffix):
    # DRF's OPTIONS metadata called get_object() on views without a queryset: a 500.
    campaign = make_campaign()
    before = campaign_state()

    response = admin_client.options(f"/api/v1/campaigns/{campaign.pk}{suffix}")

    assert_error(response, 405)
    assert campaign_state() == before


def test_options_on_the_campaign_list_is_a_json_405(admin_client):
    assert_error(admin_client.options("/api/v1/campaigns"), 405)


def test_options_without_a_key_is_still_a_401(api_client):
    campaign = make_campaign()

    assert_error(api_client.options(f"/api/v1/campaigns/{campaign.pk}"), 401)


def test_a_filepath_holding_a_nul_character_is_an_unknown_image(admin_client):
    # PostgreSQL refuses NUL in a query parameter: this was a 500 there.
    campaign = make_campaign(images=0)
    image = ImageFactory(blobstorage_path="images/uploads/x/a.png")
    before = campaign_state()

    response = admin_client.post(
        f"/api/v1/campaigns/{campaign.pk}/images",
        [{"id": image.pk}, {"filepath": "images/uploads/x/a\x00.png"}],
        format="json",
    )

    assert_error(response, 404)
    assert response.json()["filepath"] == "images/uploads/x/a\x00.png"
    assert campaign_state() == before


# --- GET /campaigns with an agency's key ----------------------------------------------


def test_an_agency_lists_its_own_campaigns_in_its_view(admin_client, django_assert_num_queries):
    agency = UserFactory(email="agency@example.com")
    rival = UserFactory(email="rival@example.com")
    own = [make_campaign(images=2, labeler=agency, title=f"own-{n}") for n in range(3)]
    make_campaign(images=1, labeler=rival, title="rivals-campaign", metadata={"customer": "confidential"})
    client = client_for(agency)
    client.get(f"{API}/campaigns")  # the key's first use is stored once (last_used_at)

    with django_assert_num_queries(2):  # the key, then the page with its total
        response = client.get(f"{API}/campaigns?per_page=2")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pagination"] == {"page": 1, "pages": 2, "total": 3, "per_page": 2, "next": 2, "prev": None}
    assert [c["campaign_id"] for c in body["campaigns"]] == [c.pk for c in own[:2]]
    assert body["campaigns"][0] == client.get(f"{API}/campaigns/{own[0].pk}").json()
    second = client.get(f"{API}/campaigns?page=2&per_page=2").json()["campaigns"]
    assert [c["campaign_id"] for c in second] == [own[2].pk]
    page = response.content.decode() + str(second)
    assert "rivals-campaign" not in page and "confidential" not in page and "created_by" not in page


def test_an_agency_without_campaigns_lists_none(admin_client):
    client = client_for(UserFactory(email="new-agency@example.com"))
    body = client.get(f"{API}/campaigns").json()
    assert body["campaigns"] == [] and body["pagination"]["total"] == 0


def test_an_agency_still_cannot_create_a_campaign(admin_client):
    agency = UserFactory(email="agency@example.com")
    before = Campaign.objects.count()
    response = client_for(agency).post(
        f"{API}/campaigns", {"title": "mine", "labeler_email": "agency@example.com"}, format="json"
    )
    assert response.status_code == 401
    assert Campaign.objects.count() == before


def test_staff_still_list_every_campaign_in_full(admin_client):
    agency = UserFactory(email="agency@example.com")
    campaigns = [make_campaign(images=1, labeler=agency), make_campaign(images=1)]
    listed = admin_client.get(f"{API}/campaigns").json()["campaigns"]
    assert [c["campaign_id"] for c in listed] == [c.pk for c in campaigns]
    assert "created_by" in listed[0] and "metadata" in listed[0]
