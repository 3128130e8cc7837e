"""Inputs the schemathesis fuzz (labelhub/tests/test_fuzz.py) turned up against the campaign API.

Each answered a 500 before it was fixed; each must now get its documented 4xx with a
JSON ``detail`` and leave everything stored as it was.
"""

import pytest

from campaigns.models import BoundingBox, Campaign, CampaignImage, CampaignLabeler
from campaigns.tests.factories import make_campaign
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Campaign.objects.values_list("id", "status", "date_started", "date_completed", "date_finished")),
        list(CampaignImage.objects.values_list("id", "campaign_id", "image_id", "labeled")),
        list(CampaignLabeler.objects.values_list("campaign_id", "user_id")),
        list(BoundingBox.objects.values_list("id")),
    )


def assert_error(response, code):
    assert response.status_code == code, response.content
    body = response.json()
    assert body["status"] == code and isinstance(body["detail"], str) and body["detail"]


@pytest.mark.parametrize("suffix", ["", "/objects", "/images"])
def test_options_on_a_campaign_is_a_json_405_not_a_500(admin_client, suffix):
    # DRF's OPTIONS metadata called get_object() on views without a queryset: a 500.
    campaign = make_campaign()
    before = snapshot()

    response = admin_client.options(f"/api/v1/campaigns/{campaign.pk}{suffix}")

    assert_error(response, 405)
    assert snapshot() == before


def test_options_without_a_key_is_still_a_401(api_client):
    campaign = make_campaign()

    assert_error(api_client.options(f"/api/v1/campaigns/{campaign.pk}"), 401)


def test_a_filepath_holding_a_nul_character_is_an_unknown_image(admin_client):
    # PostgreSQL refuses NUL in a query parameter: this was a 500 there.
    campaign = make_campaign(images=0)
    image = ImageFactory(blobstorage_path="images/uploads/x/a.png")
    before = snapshot()

    response = admin_client.post(
        f"/api/v1/campaigns/{campaign.pk}/images",
        [{"id": image.pk}, {"filepath": "images/uploads/x/a\x00.png"}],
        format="json",
    )

    assert_error(response, 404)
    assert response.json()["filepath"] == "images/uploads/x/a\x00.png"
    assert snapshot() == before
