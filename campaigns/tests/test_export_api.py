"""``GET /campaigns/{id}/labels.csv`` and ``manage.py export_campaign``."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.http import StreamingHttpResponse

from campaigns.export import formats
from campaigns.export.services import ExportPaths, campaign_export_run
from campaigns.models import Campaign, CampaignJob
from campaigns.tests.export_data import EXPECTED_CSV, make_exportable_campaign
from campaigns.tests.factories import CampaignFactory
from core.exceptions import UNAUTHORIZED_DETAIL
from integrations import azureml
from integrations.storage import get_storage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_azureml(settings):
    for name in azureml.SETTINGS:
        setattr(settings, name, "")


def body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


# --- GET /campaigns/{id}/labels.csv -----------------------------------------------------


def test_admin_downloads_the_labels_csv_as_a_streamed_attachment(admin_client):
    campaign, _ = make_exportable_campaign()

    response = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="beach-2024_labels.csv"'
    assert body(response) == EXPECTED_CSV


def test_labels_csv_endpoint_equals_the_file_the_export_stored(admin_client, local_storage):
    campaign, _ = make_exportable_campaign()
    campaign_export_run(campaign_id=campaign.pk)

    response = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")

    with get_storage().open(ExportPaths.for_campaign(campaign).labels_csv) as stored:
        assert body(response) == stored.read().decode("utf-8")


def test_labels_csv_is_served_in_any_campaign_status(admin_client):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.ACTIVE)

    response = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")

    assert response.status_code == 200
    assert body(response) == EXPECTED_CSV


def test_labels_csv_of_a_campaign_without_images_is_the_header_alone(admin_client):
    campaign = CampaignFactory(title="empty")

    response = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")

    assert body(response) == "image_url,label,label_confidence\n"


def test_a_client_asking_for_text_csv_gets_the_csv(admin_client):
    campaign, _ = make_exportable_campaign()

    response = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert body(response) == EXPECTED_CSV


def test_labels_csv_streams_many_rows_in_chunks_with_a_fixed_number_of_queries(
    admin_client, monkeypatch, django_assert_max_num_queries
):
    from campaigns.tests.export_data import label_image, obj
    from campaigns.tests.factories import CampaignImageFactory
    from imagesets.tests.factories import ImageFactory

    monkeypatch.setattr(formats, "CHUNK_CHARS", 512)
    campaign = CampaignFactory(title="many")
    for n in range(40):
        image = ImageFactory(blobstorage_path=f"images/m/{n:03}.png", width=100, height=50)
        label_image(CampaignImageFactory(campaign=campaign, image=image), [obj("Can", 0.5, 10, 5, 20, 10)] * 3)

    with django_assert_max_num_queries(4):  # key lookup, campaign, the CSV's one query (+ last-used update)
        response = admin_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")
        chunks = list(response.streaming_content)

    assert len(chunks) > 5
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 41
    assert lines[1].startswith('m/000.png,"[{""label"": ""Can"", ""topX"": 0.1, ""topY"": 0.1,')


def test_labeler_cannot_download_the_labels_csv(labeler_client):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.ACTIVE)
    campaign.labelers.add(labeler_client.user)

    response = labeler_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")

    assert response.status_code == 401
    assert response.json()["detail"] == UNAUTHORIZED_DETAIL


def test_labels_csv_without_credentials_is_401(api_client):
    campaign, _ = make_exportable_campaign()

    response = api_client.get(f"/api/v1/campaigns/{campaign.pk}/labels.csv")

    assert response.status_code == 401
    assert response.json()["detail"] == UNAUTHORIZED_DETAIL


def test_labels_csv_of_an_unknown_campaign_is_404_json(admin_client):
    response = admin_client.get("/api/v1/campaigns/987654/labels.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Campaign 987654 not found", "status": 404}


# --- manage.py export_campaign -------------------------------------------------------------


def test_export_campaign_command_exports_a_finished_campaign_inline(local_storage):
    campaign, _ = make_exportable_campaign()
    out = io.StringIO()

    call_command("export_campaign", str(campaign.pk), stdout=out)

    job = CampaignJob.objects.get(campaign=campaign)
    assert job.status == CampaignJob.Status.SUCCEEDED
    paths = ExportPaths.for_campaign(campaign)
    with local_storage.open(paths.labels_csv) as stored:
        assert stored.read().decode() == EXPECTED_CSV
    output = out.getvalue()
    assert f"wrote {paths.labels_csv} ({len(EXPECTED_CSV.encode())} bytes)" in output
    assert "azure ml: skipped" in output
    assert f"Exported campaign {campaign.pk}: 4 images, 3 objects" in output


def test_export_campaign_command_retries_a_failed_export(local_storage):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(
        campaign=campaign, status=CampaignJob.Status.FAILED, error="StorageError: down", attempts=1
    )

    call_command("export_campaign", str(campaign.pk), stdout=io.StringIO())

    job = CampaignJob.objects.get(campaign=campaign)
    assert (job.status, job.error, job.attempts) == (
        CampaignJob.Status.SUCCEEDED,
        None,
        1,
    )  # a rerun starts a fresh count


def test_export_campaign_command_refuses_a_campaign_that_is_not_finished(local_storage):
    campaign, _ = make_exportable_campaign(status=Campaign.Status.COMPLETED)

    with pytest.raises(CommandError, match="only a finished campaign is exported"):
        call_command("export_campaign", str(campaign.pk))

    assert not CampaignJob.objects.filter(campaign=campaign).exists()
    assert not local_storage.exists(ExportPaths.for_campaign(campaign).labels_csv)


def test_export_campaign_command_names_an_unknown_campaign():
    with pytest.raises(CommandError, match="Campaign 987654 not found"):
        call_command("export_campaign", "987654")


def test_export_campaign_command_does_not_start_a_second_export_while_one_runs(local_storage):
    campaign, _ = make_exportable_campaign()
    CampaignJob.objects.create(campaign=campaign, status=CampaignJob.Status.RUNNING)

    with pytest.raises(CommandError, match="already running"):
        call_command("export_campaign", str(campaign.pk))
    assert CampaignJob.objects.get(campaign=campaign).status == CampaignJob.Status.RUNNING

    call_command("export_campaign", str(campaign.pk), "--force", stdout=io.StringIO())
    assert CampaignJob.objects.get(campaign=campaign).status == CampaignJob.Status.SUCCEEDED


def test_export_campaign_command_reports_a_failed_export(local_storage, monkeypatch):
    from integrations.storage import StorageError

    campaign, _ = make_exportable_campaign()

    def down(*args, **kwargs):
        raise StorageError("storage is down")

    monkeypatch.setattr(type(local_storage), "write", down)

    with pytest.raises(CommandError, match="StorageError: storage is down"):
        call_command("export_campaign", str(campaign.pk))

    job = CampaignJob.objects.get(campaign=campaign)
    assert (job.status, job.error) == (CampaignJob.Status.FAILED, "StorageError: storage is down")
