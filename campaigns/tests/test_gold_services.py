"""Gold images in the services: references given, copied, imported and removed; every delivery scored; the reads."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from campaigns.gold.selectors import campaign_quality, gold_image_ids, gold_lot_figures
from campaigns.inputs import parse_object_items, parse_review_items
from campaigns.models import Campaign, CampaignImage, GoldBox, GoldImage, GoldScore, GoldScoreLabel
from campaigns.services import (
    gold_copy_from_campaign,
    gold_delete,
    gold_import,
    gold_replace,
    objects_replace,
    reviews_decide,
)
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import CampaignImageFactory, make_campaign
from core.exceptions import Conflict, NotFound, Unprocessable

pytestmark = pytest.mark.django_db

Status = Campaign.Status


def obj(label: str, xmin: int, ymin: int, xmax: int, ymax: int) -> dict:
    return {"label": label, "bounding_box": {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}}


def give(campaign, references: dict[int, list[dict]]) -> int:
    """``PUT /campaigns/{id}/gold`` without HTTP."""
    items = [{"image_id": image_id, "objects": objects} for image_id, objects in references.items()]
    return gold_replace(campaign_id=campaign.pk, objects_by_image=parse_object_items(items), actor=None)


def deliver(campaign, user, objects: dict[int, list[dict]]):
    """``PUT /campaigns/{id}/objects`` without HTTP."""
    items = [{"image_id": image_id, "objects": boxes} for image_id, boxes in objects.items()]
    return objects_replace(campaign_id=campaign.pk, objects_by_image=parse_object_items(items), user=user)


# Image A: car matched at IoU 0.5 (50x100 of 100x100), person at IoU 1, a dog where nothing is: TP 2, FP 1, FN 0.
REFERENCE_A = [obj("car", 0, 0, 100, 100), obj("person", 100, 100, 150, 200)]
DELIVERY_A = [obj("car", 0, 0, 100, 50), obj("person", 100, 100, 150, 200), obj("dog", 10, 10, 20, 20)]
# Image B: the car missed: TP 0, FP 0, FN 1.
REFERENCE_B = [obj("car", 0, 0, 50, 50)]


@pytest.fixture
def campaign(labeler_user):
    """An active campaign of four 200x200 images; the first two are gold (A and B)."""
    campaign = make_campaign(images=4, status=Status.ACTIVE, labeler=labeler_user, title="gold")
    a, b, _, _ = image_ids(campaign)
    give(campaign, {a: REFERENCE_A, b: REFERENCE_B})
    return campaign


def test_a_delivery_of_gold_images_stores_each_images_hand_computed_score(campaign, labeler_user):
    a, b, c, _ = image_ids(campaign)

    submission = deliver(campaign, labeler_user, {a: DELIVERY_A, b: [], c: [obj("car", 0, 0, 9, 9)]})

    scores = {score.gold.image_id: score for score in GoldScore.objects.select_related("gold")}
    assert set(scores) == {a, b}  # c is not gold
    first = scores[a]
    assert (first.tp, first.fp, first.fn, first.matched, first.submission_id) == (2, 1, 0, 2, submission.pk)
    assert first.latest and first.date_submitted == submission.date_created
    assert first.iou_sum == pytest.approx(1.5)
    assert first.figures == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "mean_iou": 0.75})
    second = scores[b]
    assert (second.tp, second.fp, second.fn) == (0, 0, 1)
    assert second.figures == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "mean_iou": None}
    assert sorted(GoldScoreLabel.objects.filter(score=first).values_list("label", "tp", "fp", "fn")) == [
        ("car", 1, 0, 0),
        ("dog", 0, 1, 0),
        ("person", 1, 0, 0),
    ]


def test_the_campaigns_quality_pools_the_counts_and_splits_them_by_label(campaign, labeler_user):
    a, b, _, _ = image_ids(campaign)
    deliver(campaign, labeler_user, {a: DELIVERY_A, b: []})

    quality = campaign_quality(campaign_id=campaign.pk)

    # TP 2, FP 1, FN 1: precision 2/3, recall 2/3, F1 4/6; mean IoU (0.5 + 1) / 2.
    assert quality == {
        "images": 2,
        "scored": 2,
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(2 / 3),
        "mean_iou": pytest.approx(0.75),
        "by_label": {
            "car": {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)},
            "dog": {"precision": 0.0, "recall": 0.0, "f1": 0.0},
            "person": {"precision": 1.0, "recall": 1.0, "f1": 1.0},
        },
    }


def test_a_resubmission_becomes_the_latest_score_and_the_first_stays_stored(campaign, labeler_user):
    a, _, _, _ = image_ids(campaign)
    deliver(campaign, labeler_user, {a: DELIVERY_A})

    deliver(campaign, labeler_user, {a: REFERENCE_A})

    scores = list(GoldScore.objects.filter(gold__image_id=a).order_by("pk").values_list("latest", "f1"))
    assert scores == [(False, pytest.approx(0.8)), (True, 1.0)]
    assert campaign_quality(campaign_id=campaign.pk)["scored"] == 1
    assert campaign_quality(campaign_id=campaign.pk)["f1"] == 1.0


def test_an_empty_reference_delivered_empty_scores_one(labeler_user):
    campaign = make_campaign(images=1, status=Status.ACTIVE, labeler=labeler_user)
    (image,) = image_ids(campaign)
    give(campaign, {image: []})

    deliver(campaign, labeler_user, {image: []})

    assert GoldScore.objects.get().figures == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "mean_iou": 1.0}


def test_a_delivery_without_gold_images_stores_no_score(campaign, labeler_user):
    _, _, c, d = image_ids(campaign)
    deliver(campaign, labeler_user, {c: [], d: [obj("car", 0, 0, 9, 9)]})
    assert not GoldScore.objects.exists()
    assert campaign_quality(campaign_id=campaign.pk) == {
        "images": 2,
        "scored": 0,
        "precision": None,
        "recall": None,
        "f1": None,
        "mean_iou": None,
        "by_label": {},
    }


def test_scoring_takes_the_same_queries_for_2_and_20_gold_images(
    labeler_user, django_assert_num_queries, django_assert_max_num_queries
):
    def gold_campaign(n):
        campaign = make_campaign(images=n + 1, status=Status.ACTIVE, labeler=labeler_user)
        ids = image_ids(campaign)[:n]
        give(campaign, dict.fromkeys(ids, REFERENCE_A))
        return campaign, dict.fromkeys(ids, DELIVERY_A)

    campaign, delivery = gold_campaign(2)
    with django_assert_max_num_queries(20) as captured:
        deliver(campaign, labeler_user, delivery)
    few = len(captured)
    campaign, delivery = gold_campaign(20)
    with django_assert_num_queries(few):
        deliver(campaign, labeler_user, delivery)
    assert GoldScore.objects.filter(campaign=campaign).count() == 20


# --- references: given, replaced, removed -----------------------------------------------


def test_a_reference_given_after_the_delivery_scores_the_current_submission_at_once(labeler_user):
    campaign = make_campaign(images=2, status=Status.ACTIVE, labeler=labeler_user)
    a, _ = image_ids(campaign)
    submission = deliver(campaign, labeler_user, {a: DELIVERY_A})

    give(campaign, {a: REFERENCE_A})

    score = GoldScore.objects.get()
    assert (score.submission_id, score.tp, score.fp, score.fn, score.latest) == (submission.pk, 2, 1, 0, True)


def test_replacing_a_reference_drops_the_old_scores_and_scores_the_current_submission_again(campaign, labeler_user):
    a, _, _, _ = image_ids(campaign)
    deliver(campaign, labeler_user, {a: DELIVERY_A})
    deliver(campaign, labeler_user, {a: DELIVERY_A})
    assert GoldScore.objects.filter(gold__image_id=a).count() == 2

    give(campaign, {a: DELIVERY_A})

    assert list(GoldScore.objects.filter(gold__image_id=a).values_list("latest", "f1")) == [(True, 1.0)]
    assert list(GoldBox.objects.filter(gold__image_id=a).values_list("label", flat=True)) == ["car", "person", "dog"]


def test_a_reference_is_stored_translated_as_an_agencys_label_would_be(labeler_user):
    campaign = make_campaign(images=1, status=Status.ACTIVE, labeler=labeler_user, label_translations={"auto": "car"})
    (image,) = image_ids(campaign)
    give(campaign, {image: [obj("auto", 0, 0, 10, 10)]})
    deliver(campaign, labeler_user, {image: [obj("auto", 0, 0, 10, 10)]})

    assert GoldBox.objects.get().label == "car"
    assert GoldScore.objects.get().tp == 1


def test_giving_references_leaves_the_images_rows_untouched(campaign):
    a, _, _, d = image_ids(campaign)
    rows = list(CampaignImage.objects.order_by("pk").values())

    give(campaign, {a: REFERENCE_B, d: REFERENCE_A})

    assert list(CampaignImage.objects.order_by("pk").values()) == rows
    assert gold_image_ids(campaign_id=campaign.pk) == {a, image_ids(campaign)[1], d}
    assert AuditEvent.objects.filter(action="campaign.gold").count() == 2


@pytest.mark.parametrize(
    "references, error, detail",
    [
        ({987654: []}, NotFound, "Image 987654 is not part of campaign"),
        ("outside", Unprocessable, "the bounding box lies outside the image (200x200)"),
        ("label", Unprocessable, "label 'dog' is not one of the campaign's labels"),
    ],
)
def test_a_refused_reference_stores_nothing(labeler_user, references, error, detail):
    campaign = make_campaign(
        images=2, status=Status.ACTIVE, labeler=labeler_user, labels=[{"name": "car"}, {"name": "person"}]
    )
    a, b = image_ids(campaign)
    give(campaign, {a: [obj("car", 0, 0, 10, 10)]})
    if references == "outside":
        references = {b: [obj("car", 0, 0, 10, 10)], a: [obj("car", 0, 0, 201, 10)]}
    elif references == "label":
        references = {b: [obj("dog", 0, 0, 10, 10)]}
    before = campaign_state()

    with pytest.raises(error) as refused:
        give(campaign, references)

    assert detail in refused.value.detail
    assert campaign_state() == before


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FINISHED])
def test_references_are_refused_once_the_campaign_is_completed(status):
    campaign = make_campaign(images=1, status=status)
    before = campaign_state()
    with pytest.raises(Conflict, match="'created' or 'active'; it is '" + status + "'"):
        give(campaign, {image_ids(campaign)[0]: []})
    assert campaign_state() == before


def test_a_created_campaign_takes_references():
    campaign = make_campaign(images=1, status=Status.CREATED)
    assert give(campaign, {image_ids(campaign)[0]: REFERENCE_B}) == 1
    assert GoldImage.objects.get().source == GoldImage.Source.STAFF


def test_removing_a_gold_image_removes_its_reference_and_scores(campaign, labeler_user):
    a, b, _, _ = image_ids(campaign)
    deliver(campaign, labeler_user, {a: DELIVERY_A, b: []})

    gold_delete(campaign_id=campaign.pk, image_id=a, actor=None)

    assert gold_image_ids(campaign_id=campaign.pk) == {b}
    assert not GoldScore.objects.filter(gold__image_id=a).exists()
    assert not GoldBox.objects.filter(gold__image_id=a).exists()
    assert CampaignImage.objects.filter(campaign=campaign, image_id=a).exists()
    before = campaign_state()
    with pytest.raises(NotFound, match=f"Image {a} is not a gold image of campaign {campaign.pk}"):
        gold_delete(campaign_id=campaign.pk, image_id=a, actor=None)
    with pytest.raises(NotFound, match="Campaign 987654 not found"):
        gold_delete(campaign_id=987654, image_id=b, actor=None)
    assert campaign_state() == before


# --- the lot's figures, for the acceptance gate --------------------------------------------


def test_a_lots_figures_pool_its_scored_gold_images_only(campaign, labeler_user):
    a, b, c, d = image_ids(campaign)
    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=[a, b, c, d]) is None  # nothing delivered yet

    deliver(campaign, labeler_user, {a: DELIVERY_A, c: []})

    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=[a, b, c, d]) == {"images": 1, "f1": pytest.approx(0.8)}
    deliver(campaign, labeler_user, {b: []})
    # A and B: TP 2, FP 1, FN 1.
    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=[a, b, c]) == {"images": 2, "f1": pytest.approx(2 / 3)}
    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=[b]) == {"images": 1, "f1": 0.0}
    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=[c, d]) is None
    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=[]) is None
    lot = CampaignImage.objects.filter(campaign=campaign, image_id__in=[a, b]).values("image_id")
    assert gold_lot_figures(campaign_id=campaign.pk, image_ids=lot) == {"images": 2, "f1": pytest.approx(2 / 3)}
    other = make_campaign(images=0)
    assert gold_lot_figures(campaign_id=other.pk, image_ids=[a, b]) is None


def test_gold_image_ids_name_the_campaigns_gold_images_only(campaign):
    a, b, _, _ = image_ids(campaign)
    other = make_campaign(images=0)
    CampaignImageFactory(campaign=other, image_id=a)
    assert gold_image_ids(campaign_id=campaign.pk) == {a, b}
    assert gold_image_ids(campaign_id=other.pk) == set()


# --- from an earlier campaign, and from a file ------------------------------------------


@pytest.fixture
def earlier(labeler_user, campaign):
    """A completed campaign over the same four images: the first two accepted, the third rejected."""
    earlier = make_campaign(images=0, status=Status.ACTIVE, labeler=labeler_user, title="earlier")
    ids = image_ids(campaign)
    for image_id in ids:
        CampaignImageFactory(campaign=earlier, image_id=image_id)
    a, b, c, d = ids
    deliver(earlier, labeler_user, {a: DELIVERY_A, b: REFERENCE_B, c: REFERENCE_A, d: []})
    decisions = [{"image_id": a, "decision": "accepted"}, {"image_id": d, "decision": "accepted"}]
    decisions.append({"image_id": c, "decision": "rejected", "reason": "no"})
    reviews_decide(campaign_id=earlier.pk, reviews=parse_review_items(decisions), actor=None)
    return earlier


def test_references_copied_from_an_earlier_campaign_take_its_accepted_boxes(campaign, earlier):
    a, b, c, d = image_ids(campaign)

    copied = gold_copy_from_campaign(campaign_id=campaign.pk, source_campaign_id=earlier.pk, image_ids=None, actor=None)

    assert copied == [a, d]  # b awaits review there, c was rejected
    boxes = list(GoldBox.objects.filter(gold__image_id=a).values_list("label", "xmin", "ymin", "xmax", "ymax"))
    assert boxes == [("car", 0, 0, 100, 50), ("person", 100, 100, 150, 200), ("dog", 10, 10, 20, 20)]
    assert not GoldBox.objects.filter(gold__image_id=d).exists()
    gold = GoldImage.objects.get(campaign=campaign, image_id=a)
    assert (gold.source, gold.source_campaign_id) == (GoldImage.Source.CAMPAIGN, earlier.pk)
    assert list(GoldBox.objects.filter(gold__image_id=b, gold__campaign=campaign).values_list("label", flat=True)) == [
        "car"
    ]  # b's own reference stays


def test_copying_named_images_refuses_one_not_accepted_there_and_stores_nothing(campaign, earlier):
    a, b, c, d = image_ids(campaign)
    before = campaign_state()

    with pytest.raises(Conflict, match=f"Image {c} has no accepted submission in campaign {earlier.pk}"):
        gold_copy_from_campaign(campaign_id=campaign.pk, source_campaign_id=earlier.pk, image_ids=[a, c], actor=None)
    with pytest.raises(NotFound, match="Image 987654 is not part of campaign"):
        gold_copy_from_campaign(campaign_id=campaign.pk, source_campaign_id=earlier.pk, image_ids=[987654], actor=None)
    with pytest.raises(NotFound, match="Campaign 987654 not found"):
        gold_copy_from_campaign(campaign_id=campaign.pk, source_campaign_id=987654, image_ids=None, actor=None)
    with pytest.raises(Unprocessable, match="another campaign"):
        gold_copy_from_campaign(campaign_id=campaign.pk, source_campaign_id=campaign.pk, image_ids=None, actor=None)
    assert campaign_state() == before

    assert gold_copy_from_campaign(
        campaign_id=campaign.pk, source_campaign_id=earlier.pk, image_ids=[d], actor=None
    ) == [d]


def test_references_imported_from_a_coco_file_and_by_the_command(campaign, tmp_path):
    _, _, c, d = image_ids(campaign)
    names = dict(CampaignImage.objects.filter(campaign=campaign).values_list("image_id", "image__blobstorage_path"))
    coco = {
        "images": [{"id": 1, "file_name": names[c].rsplit("/", 1)[-1]}, {"id": 2, "file_name": names[d]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [10, 20, 30, 40.4]}],
        "categories": [{"id": 5, "name": "car"}],
    }

    report = gold_import(
        campaign_id=campaign.pk, file=io.BytesIO(json.dumps(coco).encode()), file_format="coco", actor=None
    )

    assert (report.images, report.objects) == (2, 1)
    assert list(GoldBox.objects.filter(gold__image_id=c).values_list("label", "xmin", "ymin", "xmax", "ymax")) == [
        ("car", 10, 20, 40, 60)
    ]
    assert GoldImage.objects.get(campaign=campaign, image_id=d).source == GoldImage.Source.FILE

    path = tmp_path / "gold.json"
    coco["annotations"][0]["bbox"] = [0, 0, 5, 5]
    path.write_text(json.dumps(coco))
    out = io.StringIO()
    call_command("import_labels", str(campaign.pk), str(path), "--gold", stdout=out)
    assert "Imported 1 reference box(es) on 2 gold image(s)" in out.getvalue()
    assert list(GoldBox.objects.filter(gold__image_id=c).values_list("xmax", "ymax")) == [(5, 5)]

    coco["images"][0]["file_name"] = "missing.png"
    path.write_text(json.dumps(coco))
    before = campaign_state()
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_labels", str(campaign.pk), str(path), "--gold", stderr=io.StringIO())
    with pytest.raises(CommandError, match="--gold and --model"):
        call_command("import_labels", str(campaign.pk), str(path), "--gold", "--model", "m")
    assert campaign_state() == before


def test_the_campaigns_minimum_f1_is_stored_as_given():
    campaign = make_campaign(images=0, gold_min_f1=Decimal("0.85"))
    campaign.refresh_from_db()
    assert campaign.gold_min_f1 == Decimal("0.850")
