"""``GET /campaigns/{id}/export``: the last export's files with their sizes, hashes and read URLs."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from campaigns.export.services import campaign_export_run
from campaigns.models import Campaign, CampaignJob
from campaigns.tests.conftest import campaign_state
from campaigns.tests.export_data import EXPECTED_CSV, make_exportable_campaign
from campaigns.tests.factories import CampaignFactory
from testing.api import assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1"


def read(url: str) -> bytes:
    """The bytes behind a read URL, with no key headers, as any HTTP client fetches it."""
    parts = urlsplit(url)
    if parts.netloc == "testserver":  # local storage: labelhub's own signed file view
        response = Client().get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
        assert response.status_code == 200, response
        return b"".join(response.streaming_content)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("storage_kind", ["local", pytest.param("azure", marks=pytest.mark.azurite)])
def test_the_export_lists_every_file_it_wrote_with_size_sha256_and_a_working_url(
    admin_client, storage_kind, request, django_assert_num_queries
):
    request.getfixturevalue(f"{storage_kind}_storage")
    campaign, _ = make_exportable_campaign()
    campaign_export_run(campaign_id=campaign.pk)
    written = CampaignJob.objects.get(campaign=campaign).result["files"]

    admin_client.get(f"{API}/campaigns/{campaign.pk}/export")  # the key's first use is stored once
    with django_assert_num_queries(2):  # the key, then the campaign with its progress and job
        response = admin_client.get(f"{API}/campaigns/{campaign.pk}/export")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["campaign_id"] == campaign.pk
    assert body["job"]["status"] == "succeeded"
    assert [(f["path"], f["size"], f["sha256"]) for f in body["files"]] == [
        (f["path"], f["size"], f["sha256"]) for f in written
    ]
    assert len(body["files"]) == 7
    for listed in body["files"]:
        data = read(listed["url"])
        assert len(data) == listed["size"]
        assert hashlib.sha256(data).hexdigest() == listed["sha256"]
    csv_file = next(f for f in body["files"] if f["path"].endswith("_labels.csv"))
    assert read(csv_file["url"]).decode() == EXPECTED_CSV


def test_a_failed_export_lists_what_it_wrote_so_far_with_its_error(admin_client, local_storage):
    campaign = CampaignFactory(status=Campaign.Status.FINISHED)
    CampaignJob.objects.create(
        campaign=campaign,
        status=CampaignJob.Status.FAILED,
        error="StorageError: gone",
        result={"files": [{"path": "images/label_sets/x_labels.csv", "size": 10, "sha256": "ab"}, "junk"]},
    )

    body = admin_client.get(f"{API}/campaigns/{campaign.pk}/export").json()

    assert body["job"]["status"] == "failed" and body["job"]["error"] == "StorageError: gone"
    assert [(f["path"], f["size"], f["sha256"]) for f in body["files"]] == [
        ("images/label_sets/x_labels.csv", 10, "ab")
    ]
    assert body["files"][0]["url"].startswith("http://testserver/api/v1/files/")


@pytest.mark.parametrize("status", ["created", "active", "completed"])
def test_a_campaign_not_yet_finished_has_no_export(admin_client, local_storage, status):
    campaign = CampaignFactory(status=status)
    before = campaign_state()

    assert_error(admin_client.get(f"{API}/campaigns/{campaign.pk}/export"), 409, "has no export")
    assert campaign_state() == before


def test_an_unknown_campaign_is_a_404(admin_client):
    assert_error(admin_client.get(f"{API}/campaigns/987654/export"), 404, "not found")


def test_the_export_listing_is_for_image_admins_only(labeler_client, api_client, local_storage):
    campaign, _ = make_exportable_campaign()
    campaign_export_run(campaign_id=campaign.pk)
    for client in (labeler_client, api_client):
        assert_error(client.get(f"{API}/campaigns/{campaign.pk}/export"), 401)
