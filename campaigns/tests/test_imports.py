"""Importing labels: labelhub's own COCO and labels CSV come back exactly; anything unmatched stores nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from campaigns.export import formats
from campaigns.imports import ImportRefused
from campaigns.models import BoundingBox, Campaign, Submission
from campaigns.services.imports import labels_import
from campaigns.tests.export_data import make_exportable_campaign
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory
from labelhub.exceptions import BadRequest, Conflict, NotFound, Unprocessable
from labelhub.testing.state import stored_state

pytestmark = pytest.mark.django_db

Status = Campaign.Status


def current_boxes(campaign) -> dict[int, list[tuple]]:
    """Image id -> ``(label, confidence, xmin, ymin, xmax, ymax)`` of its current boxes, in order (labeled images)."""
    boxes = {
        image_id: [] for image_id in campaign.campaign_images.filter(labeled=True).values_list("image_id", flat=True)
    }
    for image_id, *box in (
        BoundingBox.objects.current()
        .filter(campaign_image__campaign=campaign, campaign_image__labeled=True)
        .order_by("campaign_image__image_id", "position")
        .values_list("campaign_image__image_id", "label", "confidence", "xmin", "ymin", "xmax", "ymax")
    ):
        boxes[image_id].append(tuple(box))
    return boxes


@pytest.fixture
def source():
    campaign, images = make_exportable_campaign()
    return campaign, images


@pytest.fixture
def target(source):
    """A new active campaign holding the same images."""
    _, images = source
    campaign = CampaignFactory(title="reimport", status=Status.ACTIVE)
    for image in images.values():
        CampaignImageFactory(campaign=campaign, image=image)
    return campaign


@pytest.fixture
def user():
    return UserFactory(email="history@example.com")


def coco_bytes(campaign) -> bytes:
    return "".join(formats.coco_json_chunks(campaign_id=campaign.pk)).encode()


def test_an_exported_coco_imported_into_a_new_campaign_gives_the_same_objects(source, target, user):
    campaign, _ = source

    submission, report = labels_import(
        campaign_id=target.pk, content=coco_bytes(campaign), file_format="coco", user=user
    )

    assert current_boxes(target) == current_boxes(campaign)
    assert (report.images, report.objects) == (3, 3)
    assert submission.user == user and submission.source == Submission.Source.AGENCY
    assert target.campaign_images.filter(labeled=False).count() == 1  # c.png was not labeled


def test_an_exported_labels_csv_imported_gives_the_same_objects_of_the_images_with_objects(source, target, user):
    campaign, images = source
    text = "".join(formats.labels_csv_chunks(campaign_id=campaign.pk))

    _, report = labels_import(campaign_id=target.pk, content=text.encode(), file_format="csv", user=user)

    expected = {k: v for k, v in current_boxes(campaign).items() if v}  # "[]" rows are skipped
    assert current_boxes(target) == expected
    assert report.images == 2


def test_an_external_coco_is_matched_by_file_name_and_rounded_to_pixels(source, target, user):
    _, images = source
    coco = {
        "images": [{"id": 7, "file_name": "a.png"}, {"id": 8, "file_name": "b.JPG"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "bbox": [10.4, 20.6, 30.0, 9.5], "score": 0.8},
            {"id": 2, "image_id": 7, "category_id": 3, "bbox": [0, 0, 1, 1]},
        ],
        "categories": [{"id": 3, "name": "Bottle"}],
    }

    labels_import(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

    assert current_boxes(target) == {
        images["a"].pk: [("Bottle", 0.8, 10, 21, 40, 30), ("Bottle", None, 0, 0, 1, 1)],
        images["b"].pk: [],
    }


GOOD_IMAGE = {"id": 1, "file_name": "uploads/set-a/a.png"}


@pytest.mark.parametrize(
    "coco, error, detail",
    [
        (
            {"images": [GOOD_IMAGE, {"id": 2, "file_name": "nowhere.png"}], "categories": []},
            ImportRefused,
            "nowhere.png",
        ),
        (
            {
                "images": [GOOD_IMAGE],
                "annotations": [{"id": 5, "image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}],
                "categories": [],
            },
            ImportRefused,
            "unknown category 9",
        ),
        (
            {
                "images": [GOOD_IMAGE],
                "annotations": [{"id": 5, "image_id": 4, "category_id": 1, "bbox": [0, 0, 1, 1]}],
                "categories": [{"id": 1, "name": "x"}],
            },
            ImportRefused,
            "names an image not in the file",
        ),
        (
            {
                "images": [GOOD_IMAGE],
                "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, "1", 1]}],
                "categories": [{"id": 1, "name": "x"}],
            },
            ImportRefused,
            "'bbox' must be",
        ),
        (
            {
                "images": [GOOD_IMAGE],
                "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [10, 0, -5, 1]}],
                "categories": [{"id": 1, "name": "x"}],
            },
            ImportRefused,
            "'bounding_box.xmin' must not be greater",
        ),
        (
            {
                "images": [GOOD_IMAGE],
                "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 7}],
                "categories": [{"id": 1, "name": "x"}],
            },
            ImportRefused,
            "'confidence' must be between 0 and 1",
        ),
        (
            {
                "images": [GOOD_IMAGE],
                "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [150, 0, 100, 1]}],
                "categories": [{"id": 1, "name": "x"}],
            },
            Unprocessable,
            "outside the image",
        ),
        ({"images": "all"}, BadRequest, "'images' must be a list"),
        ([], BadRequest, "JSON object"),
    ],
)
def test_a_coco_file_that_does_not_fit_stores_nothing_and_says_why(target, user, coco, error, detail):
    before = stored_state()

    with pytest.raises(error) as refused:
        labels_import(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

    assert detail in refused.value.detail
    assert stored_state() == before


def test_the_report_lists_every_unmatched_file(target, user):
    coco = {"images": [{"id": i, "file_name": f"missing-{i}.png"} for i in range(3)], "categories": []}

    with pytest.raises(ImportRefused) as refused:
        labels_import(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

    report = refused.value.extra["report"]
    assert report["unmatched_files"] == ["missing-0.png", "missing-1.png", "missing-2.png"]
    assert report["unmatched_count"] == 3


@pytest.mark.parametrize(
    "content, file_format, error",
    [
        (b"\xff\xfe not utf-8", "coco", BadRequest),
        (b"{not json", "coco", BadRequest),
        (b"a,b\n1,2\n", "csv", BadRequest),
        (
            b'image_url,label,label_confidence\nuploads/set-a/a.png,"[{""label"": ""x""}]",[null]\n',
            "csv",
            ImportRefused,
        ),
        (b"image_url,label,label_confidence\nuploads/set-a/a.png,not json,[]\n", "csv", ImportRefused),
        (b"{}", "yaml", BadRequest),
    ],
)
def test_a_malformed_file_stores_nothing(target, user, content, file_format, error):
    before = stored_state()

    with pytest.raises(error):
        labels_import(campaign_id=target.pk, content=content, file_format=file_format, user=user)

    assert stored_state() == before


def test_a_campaign_that_is_not_active_or_unknown_refuses_the_import(source, user):
    campaign, _ = source  # finished
    before = stored_state()

    with pytest.raises(Conflict):
        labels_import(campaign_id=campaign.pk, content=coco_bytes(campaign), file_format="coco", user=user)
    with pytest.raises(NotFound):
        labels_import(campaign_id=987654, content=coco_bytes(campaign), file_format="coco", user=user)
    assert stored_state() == before


def test_the_import_obeys_the_campaigns_label_schema(source, target, user):
    campaign, _ = source
    target.labels = [{"name": "Plastic", "colour": None, "description": None}]
    target.save()
    before = stored_state()

    with pytest.raises(Unprocessable, match="is not one of the campaign's labels"):
        labels_import(campaign_id=target.pk, content=coco_bytes(campaign), file_format="coco", user=user)
    assert stored_state() == before


# --- the command and the admin page ----------------------------------------------------------


def test_the_command_imports_a_file(source, target, user, tmp_path):
    campaign, _ = source
    path = tmp_path / "history_coco.json"
    path.write_bytes(coco_bytes(campaign))
    out = io.StringIO()

    call_command("import_labels", str(target.pk), str(path), "--user", user.email, stdout=out)

    assert "Imported 3 object(s) on 3 image(s)" in out.getvalue()
    assert current_boxes(target) == current_boxes(campaign)


def test_the_command_reports_what_did_not_match_and_stores_nothing(target, user, tmp_path):
    path = tmp_path / "labels.csv"
    box = '""label"": ""x"", ""topX"": 0, ""topY"": 0, ""bottomX"": 1, ""bottomY"": 1'
    path.write_text(f'image_url,label,label_confidence\nelsewhere/z.png,"[{{{box}}}]",[1]\n')
    err = io.StringIO()
    before = stored_state()

    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_labels", str(target.pk), str(path), "--user", user.email, stderr=err)

    assert "not in the campaign: elsewhere/z.png" in err.getvalue()
    assert stored_state() == before
    with pytest.raises(CommandError, match="No user"):
        call_command("import_labels", str(target.pk), str(path), "--user", "nobody@example.com")


def test_the_admin_page_imports_an_uploaded_file(client, source, target, user):
    campaign, _ = source
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/campaigns/campaign/{target.pk}/import-labels/"
    assert client.get(url).status_code == 200

    refused = client.post(
        url,
        {
            "file": SimpleUploadedFile("x.json", b'{"images": [{"id": 1, "file_name": "no.png"}], "categories": []}'),
            "user_email": user.email,
        },
    )
    assert refused.status_code == 200 and "no.png" in refused.content.decode()
    assert not Submission.objects.filter(campaign=target).exists()

    response = client.post(
        url, {"file": SimpleUploadedFile("coco.json", coco_bytes(campaign)), "user_email": user.email}
    )

    assert response.status_code == 302
    assert current_boxes(target) == current_boxes(campaign)
