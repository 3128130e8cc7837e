"""Importing labels: labelhub's own COCO and labels CSV come back exactly; anything unmatched stores nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from accounts.tests.factories import UserFactory
from campaigns.export import formats
from campaigns.imports import ImportRefused
from campaigns.models import BoundingBox, Campaign, Submission
from campaigns.services.imports import labels_import
from campaigns.tests.export_data import make_exportable_campaign
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory
from core.exceptions import BadRequest, Conflict, NotFound, PayloadTooLarge, Unprocessable
from testing.state import stored_state

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


def import_bytes(*, content: bytes, **kwargs):
    """``labels_import`` of ``content`` as an uploaded file, by the system."""
    return labels_import(file=io.BytesIO(content), actor=None, **kwargs)


def coco_bytes(campaign) -> bytes:
    return "".join(formats.coco_json_chunks(campaign_id=campaign.pk)).encode()


def test_an_exported_coco_imported_into_a_new_campaign_gives_the_same_objects(source, target, user):
    campaign, _ = source

    submission, report = import_bytes(
        campaign_id=target.pk, content=coco_bytes(campaign), file_format="coco", user=user
    )

    assert current_boxes(target) == current_boxes(campaign)
    assert (report.images, report.objects) == (3, 3)
    assert submission.user == user and submission.source == Submission.Source.AGENCY
    assert target.campaign_images.filter(labeled=False).count() == 1  # c.png was not labeled


def test_an_exported_labels_csv_imported_gives_the_same_objects_of_the_images_with_objects(source, target, user):
    campaign, images = source
    text = "".join(formats.labels_csv_chunks(campaign_id=campaign.pk))

    _, report = import_bytes(campaign_id=target.pk, content=text.encode(), file_format="csv", user=user)

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

    import_bytes(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

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
        import_bytes(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

    assert detail in refused.value.detail
    assert stored_state() == before


def test_the_report_lists_every_unmatched_file(target, user):
    coco = {"images": [{"id": i, "file_name": f"missing-{i}.png"} for i in range(3)], "categories": []}

    with pytest.raises(ImportRefused) as refused:
        import_bytes(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

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
        import_bytes(campaign_id=target.pk, content=content, file_format=file_format, user=user)

    assert stored_state() == before


def test_a_campaign_that_is_not_active_or_unknown_refuses_the_import(source, user):
    campaign, _ = source  # finished
    before = stored_state()

    with pytest.raises(Conflict):
        import_bytes(campaign_id=campaign.pk, content=coco_bytes(campaign), file_format="coco", user=user)
    with pytest.raises(NotFound):
        import_bytes(campaign_id=987654, content=coco_bytes(campaign), file_format="coco", user=user)
    assert stored_state() == before


def test_the_import_obeys_the_campaigns_label_schema(source, target, user):
    campaign, _ = source
    target.labels = [{"name": "Plastic", "colour": None, "description": None}]
    target.save()
    before = stored_state()

    with pytest.raises(Unprocessable, match="is not one of the campaign's labels"):
        import_bytes(campaign_id=target.pk, content=coco_bytes(campaign), file_format="coco", user=user)
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


# --- a COCO id of the wrong type: refused with the report, never a 500 --------------------------------

GOOD_ANNOTATION = {"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}
GOOD_CATEGORY = {"id": 1, "name": "x"}
WRONG_IDS = [[1], {"id": 1}, "1", True, 1.0, None]


def coco_with(*, image=None, annotation=None, category=None) -> dict:
    return {
        "images": [{**GOOD_IMAGE, **(image or {})}],
        "annotations": [{**GOOD_ANNOTATION, **(annotation or {})}],
        "categories": [{**GOOD_CATEGORY, **(category or {})}],
    }


WRONG_ID_FILES = [
    *(pytest.param(coco_with(image={"id": v}), "COCO image #0: 'id'", id=f"image id {v!r}") for v in WRONG_IDS),
    *(
        pytest.param(coco_with(annotation={"id": v}), "annotation #0: 'id'", id=f"annotation id {v!r}")
        for v in WRONG_IDS
    ),
    *(pytest.param(coco_with(category={"id": v}), "category #0: 'id'", id=f"category id {v!r}") for v in WRONG_IDS),
    *(
        pytest.param(coco_with(annotation={k: v}), "'image_id' and 'category_id'", id=f"{k} {v!r}")
        for k in ("image_id", "category_id")
        for v in WRONG_IDS
    ),
]


@pytest.mark.parametrize("coco, detail", WRONG_ID_FILES)
def test_a_coco_id_that_is_not_an_integer_is_refused_with_the_report_and_stores_nothing(target, user, coco, detail):
    before = stored_state()

    with pytest.raises(ImportRefused) as refused:
        import_bytes(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

    assert detail in refused.value.detail
    assert refused.value.status_code == 422
    assert stored_state() == before


def test_coco_images_and_categories_listed_twice_are_refused(target, user):
    coco = coco_with()
    coco["images"].append({"id": 1, "file_name": "uploads/set-a/b.JPG"})
    coco["categories"].append({"id": 1, "name": "y"})
    before = stored_state()

    with pytest.raises(ImportRefused) as refused:
        import_bytes(campaign_id=target.pk, content=json.dumps(coco).encode(), file_format="coco", user=user)

    assert "COCO image 1 is listed more than once" in refused.value.detail
    assert "category 1 is listed more than once" in refused.value.detail
    assert stored_state() == before


@pytest.mark.parametrize(
    "content, file_format, error",
    [
        (b'{"images": [{"id": ' + b"9" * 5000 + b"}]}", "coco", BadRequest),
        (b"[" * 100_000 + b"]" * 100_000, "coco", BadRequest),
        (b"image_url,label,label_confidence\nuploads/set-a/a.png,[" + b"9" * 5000 + b"],[]\n", "csv", ImportRefused),
        (b"image_url,label,label_confidence\nuploads/set-a/a.png," + b"[" * 100_000 + b",[]\n", "csv", ImportRefused),
        (b'image_url,label,label_confidence\nuploads/set-a/a.png,"' + b"x" * 200_000 + b'",[]\n', "csv", BadRequest),
        (b"image_url,label,label_confidence\n\xff\xfe,[],[]\n", "csv", BadRequest),
    ],
    ids=["huge integer", "deep nesting", "csv huge integer", "csv deep nesting", "csv huge field", "csv not utf-8"],
)
def test_a_file_python_cannot_parse_as_it_is_refused_not_a_server_error(target, user, content, file_format, error):
    before = stored_state()

    with pytest.raises(error):
        import_bytes(campaign_id=target.pk, content=content, file_format=file_format, user=user)

    assert stored_state() == before


def test_the_command_refuses_a_coco_id_that_is_a_list(target, user, tmp_path):
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco_with(image={"id": [1]})))
    err = io.StringIO()
    before = stored_state()

    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_labels", str(target.pk), str(path), "--user", user.email, stderr=err)

    assert "problem: COCO image #0: 'id' must be an integer" in err.getvalue()
    assert stored_state() == before


@pytest.mark.parametrize("value", [[1], {"a": 1}, "1", True, 1.5])
def test_the_admin_page_shows_a_coco_id_of_the_wrong_type_as_a_form_error(client, target, user, value):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    before = stored_state()

    response = client.post(
        f"/admin/campaigns/campaign/{target.pk}/import-labels/",
        {
            "file": SimpleUploadedFile("x.json", json.dumps(coco_with(annotation={"image_id": value})).encode()),
            "user_email": user.email,
        },
    )

    assert response.status_code == 200
    assert "must be integers" in response.content.decode()
    assert stored_state() == before


# --- the size of an import -------------------------------------------------------------------------


class CountingFile(io.BytesIO):
    """A file that tells how many bytes were read from it."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data


@pytest.mark.parametrize("file_format", ["coco", "csv"])
def test_a_file_over_import_max_bytes_is_refused_without_reading_past_the_bound(target, user, settings, file_format):
    campaign_file = b"image_url,label,label_confidence\n" + b"uploads/set-a/a.png,[],[]\n" * 40_000
    if file_format == "coco":
        campaign_file = json.dumps({"images": [GOOD_IMAGE] * 40_000, "categories": []}).encode()
    settings.IMPORT_MAX_BYTES = 64 * 1024
    file = CountingFile(campaign_file)
    before = stored_state()

    with pytest.raises(PayloadTooLarge, match="IMPORT_MAX_BYTES"):
        labels_import(campaign_id=target.pk, file=file, file_format=file_format, user=user, actor=None)

    assert file.read_bytes <= settings.IMPORT_MAX_BYTES + 1 < len(campaign_file)
    assert stored_state() == before


def test_a_file_of_exactly_import_max_bytes_is_imported(source, target, user, settings):
    campaign, _ = source
    content = coco_bytes(campaign)
    settings.IMPORT_MAX_BYTES = len(content)

    _, report = import_bytes(campaign_id=target.pk, content=content, file_format="coco", user=user)

    assert report.objects == 3


def test_the_admin_page_refuses_a_file_over_import_max_bytes_before_importing(
    client, source, target, user, settings, monkeypatch
):
    import campaigns.admin.imports as page

    campaign, _ = source
    content = coco_bytes(campaign)
    settings.IMPORT_MAX_BYTES = len(content) - 1
    monkeypatch.setattr(page, "labels_import", lambda **kwargs: pytest.fail("the file was read"))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    before = stored_state()

    response = client.post(
        f"/admin/campaigns/campaign/{target.pk}/import-labels/",
        {"file": SimpleUploadedFile("coco.json", content), "user_email": user.email},
    )

    assert response.status_code == 200
    assert "IMPORT_MAX_BYTES" in response.content.decode()
    assert stored_state() == before


def test_the_command_refuses_a_file_over_import_max_bytes(source, target, user, settings, tmp_path):
    campaign, _ = source
    path = tmp_path / "coco.json"
    path.write_bytes(coco_bytes(campaign))
    settings.IMPORT_MAX_BYTES = path.stat().st_size - 1
    before = stored_state()

    with pytest.raises(CommandError, match="IMPORT_MAX_BYTES"):
        call_command("import_labels", str(target.pk), str(path), "--user", user.email)

    assert stored_state() == before


# --- who imported: the staff member, not the chosen submitter -----------------------------------------


@pytest.mark.parametrize("model_name", ["", "yolo"], ids=["labels", "predictions"])
def test_the_admin_import_is_audited_as_the_staff_member_with_the_submitter_in_the_details(
    client, source, target, user, model_name
):
    campaign, _ = source
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.post(
        f"/admin/campaigns/campaign/{target.pk}/import-labels/",
        {
            "file": SimpleUploadedFile("coco.json", coco_bytes(campaign)),
            "user_email": user.email,
            "model_name": model_name,
        },
    )

    assert response.status_code == 302
    submission = Submission.objects.get(campaign=target)
    assert submission.user == user  # the labels are still the chosen user's
    event = AuditEvent.objects.get(action="campaign.predictions" if model_name else "campaign.import_labels")
    assert (event.actor, event.actor_user, event.actor_key) == ("staff@example.com", staff, None)
    assert event.details["submitted_by"] == user.email
    assert event.details["submission_id"] == submission.pk


def test_the_command_import_is_audited_as_the_system_with_the_submitter_in_the_details(source, target, user, tmp_path):
    campaign, _ = source
    path = tmp_path / "coco.json"
    path.write_bytes(coco_bytes(campaign))

    call_command("import_labels", str(target.pk), str(path), "--user", user.email, stdout=io.StringIO())

    event = AuditEvent.objects.get(action="campaign.import_labels")
    assert (event.actor, event.actor_user) == (AuditEvent.SYSTEM, None)
    assert event.details["submitted_by"] == user.email
