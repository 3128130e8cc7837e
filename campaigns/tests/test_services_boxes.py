"""campaigns.services.boxes: a submission replaces the objects of its images (through the API's parsing)."""

import math

import pytest

from accounts.services import apikey_issue
from campaigns.models import BoundingBox, Campaign, CampaignImage
from campaigns.services import campaign_set_status
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignImageFactory,
    box,
    make_campaign,
    new_object,
    objects_body,
    progress,
    replace_objects_from_body,
)
from core.exceptions import BadRequest, Conflict, NotFound, Unprocessable
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

Status = Campaign.Status


def current_labels(campaign, image_id):
    return list(
        BoundingBox.objects.current()
        .filter(campaign_image__campaign=campaign, campaign_image__image_id=image_id)
        .order_by("position")
        .values_list("label", flat=True)
    )


# --- objects_replace ------------------------------------------------------------------


@pytest.fixture
def active():
    return make_campaign(images=3, status=Status.ACTIVE)


def test_objects_are_stored_in_order_and_the_images_marked_labeled(active, labeler_user):
    first, second, _ = image_ids(active)
    api_key = apikey_issue(user=labeler_user).api_key
    submission = replace_objects_from_body(
        campaign_id=active.pk,
        items=[
            {
                "image_id": first,
                "objects": [
                    new_object("Plastic", bounding_box=box(13, 57, 123, 198)),
                    new_object("Organic", confidence=0.56),
                ],
            },
            {"image_id": second, "objects": []},
        ],
        user=labeler_user,
        api_key=api_key,
    )
    assert (submission.user, submission.api_key) == (labeler_user, api_key)
    assert (submission.image_count, submission.object_count) == (2, 2)
    assert current_labels(active, first) == ["Plastic", "Organic"]
    assert current_labels(active, second) == []
    stored = BoundingBox.objects.get(label="Plastic")
    assert (stored.xmin, stored.xmax, stored.ymin, stored.ymax) == (13, 57, 123, 198)
    assert progress(active.pk) == {"done": 2, "total": 3}
    active.refresh_from_db()
    assert active.status == Status.ACTIVE


def test_a_second_put_replaces_the_objects_and_keeps_the_old_ones_as_a_revision(active, labeler_user):
    image = image_ids(active)[0]
    old = replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], 2, "Old"), user=labeler_user)
    new = replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], 1, "New"), user=labeler_user)
    assert current_labels(active, image) == ["New"]
    assert BoundingBox.objects.filter(submission=old).count() == 2  # superseded, not lost
    assert CampaignImage.objects.get(campaign=active, image_id=image).current_submission == new
    assert progress(active.pk) == {"done": 1, "total": 3}


def test_label_translated_becomes_the_label_and_keeps_the_original(active, labeler_user):
    image = image_ids(active)[0]
    replace_objects_from_body(
        campaign_id=active.pk,
        items=[{"image_id": image, "objects": [new_object("Plastic", label_translated="PET")]}],
        user=labeler_user,
    )
    stored = BoundingBox.objects.get()
    assert (stored.label, stored.label_original) == ("PET", "Plastic")


def test_the_campaign_translations_apply_when_no_label_translated_is_given(labeler_user):
    campaign = make_campaign(images=1, status=Status.ACTIVE, label_translations={"Plastic": "PET"})
    image = image_ids(campaign)[0]
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[
            {
                "image_id": image,
                "objects": [
                    new_object("Plastic"),
                    new_object("Wood"),
                    new_object("Plastic", label_translated="HDPE"),
                    new_object("Plastic", label_translated=None),
                ],
            }
        ],
        user=labeler_user,
    )
    assert list(BoundingBox.objects.order_by("position").values_list("label", "label_original")) == [
        ("PET", "Plastic"),
        ("Wood", "Wood"),
        ("HDPE", "Plastic"),
        ("PET", "Plastic"),
    ]


@pytest.mark.parametrize("confidence, stored", [(None, None), (0, 0.0), (1, 1.0), (0.56, 0.56)])
def test_confidence_may_be_null_or_a_number_from_0_to_1(active, labeler_user, confidence, stored):
    image = image_ids(active)[0]
    replace_objects_from_body(
        campaign_id=active.pk,
        items=[{"image_id": image, "objects": [new_object(confidence=confidence)]}],
        user=labeler_user,
    )
    assert BoundingBox.objects.get().confidence == stored


def test_a_missing_confidence_is_stored_as_null(active, labeler_user):
    image = image_ids(active)[0]
    obj = new_object()
    del obj["confidence"]
    replace_objects_from_body(campaign_id=active.pk, items=[{"image_id": image, "objects": [obj]}], user=labeler_user)
    assert BoundingBox.objects.get().confidence is None


def test_a_box_may_touch_the_image_border_and_integral_floats_are_integers(active, labeler_user):
    image = image_ids(active)[0]  # 200 x 200
    replace_objects_from_body(
        campaign_id=active.pk,
        items=[{"image_id": image, "objects": [new_object(bounding_box=box(0, 200.0, 0, 200))]}],
        user=labeler_user,
    )
    stored = BoundingBox.objects.get()
    assert (stored.xmin, stored.xmax, stored.ymin, stored.ymax) == (0, 200, 0, 200)


def test_any_box_fits_an_image_of_unknown_size(labeler_user):
    campaign = CampaignFactory(status=Status.ACTIVE)
    image = ImageFactory(width=None, height=None)
    CampaignImageFactory(campaign=campaign, image=image)
    replace_objects_from_body(
        campaign_id=campaign.pk,
        items=[{"image_id": image.pk, "objects": [new_object(bounding_box=box(0, 50_000, 0, 90_000))]}],
        user=labeler_user,
    )
    assert BoundingBox.objects.get().ymax == 90_000


def test_labeling_the_last_image_completes_the_campaign(active, labeler_user):
    first, second, third = image_ids(active)
    replace_objects_from_body(campaign_id=active.pk, items=objects_body([first, second]), user=labeler_user)
    active.refresh_from_db()
    assert active.status == Status.ACTIVE
    replace_objects_from_body(campaign_id=active.pk, items=[{"image_id": third, "objects": []}], user=labeler_user)
    active.refresh_from_db()
    assert active.status == Status.COMPLETED
    assert active.date_completed is not None
    assert progress(active.pk) == {"done": 3, "total": 3}


def test_a_reopened_campaign_accepts_objects_again_and_completes_again(active, labeler_user):
    replace_objects_from_body(campaign_id=active.pk, items=objects_body(image_ids(active)), user=labeler_user)
    campaign_set_status(campaign_id=active.pk, new_status="active")
    image = image_ids(active)[0]
    replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], 1, "Fixed"), user=labeler_user)
    assert current_labels(active, image) == ["Fixed"]
    active.refresh_from_db()
    assert active.status == Status.COMPLETED


@pytest.mark.parametrize("status", [Status.CREATED, Status.COMPLETED, Status.FINISHED])
def test_objects_unless_active_are_a_409_and_nothing_is_stored(labeler_user, status):
    campaign = make_campaign(images=1, status=status)
    before = campaign_state()
    with pytest.raises(Conflict):
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body(image_ids(campaign)), user=labeler_user)
    assert campaign_state() == before


def test_an_image_not_in_the_campaign_is_a_404_and_nothing_is_stored(active, labeler_user):
    elsewhere = make_campaign(images=1, status=Status.ACTIVE)
    foreign = image_ids(elsewhere)[0]
    before = campaign_state()
    with pytest.raises(NotFound) as excinfo:
        replace_objects_from_body(
            campaign_id=active.pk, items=objects_body([image_ids(active)[0], foreign, 2**70]), user=labeler_user
        )
    assert str(foreign) in excinfo.value.detail
    assert excinfo.value.extra == {"image_id": foreign}
    assert campaign_state() == before


def test_objects_for_an_unknown_campaign_are_a_404(labeler_user):
    with pytest.raises(NotFound):
        replace_objects_from_body(campaign_id=4242, items=[], user=labeler_user)


def test_an_empty_list_changes_nothing(active, labeler_user):
    before = campaign_state()
    assert replace_objects_from_body(campaign_id=active.pk, items=[], user=labeler_user) is None
    assert campaign_state() == before


def _with(**changes):
    obj = new_object()
    for key, value in changes.items():
        if key.startswith("box_"):
            obj["bounding_box"] = {**obj["bounding_box"], key[4:]: value}
        elif value is _DROP:
            del obj[key]
        else:
            obj[key] = value
    return obj


_DROP = object()


@pytest.mark.parametrize(
    "bad_object, error",
    [
        pytest.param("box", BadRequest, id="object-not-a-dict"),
        pytest.param(_with(label=_DROP), BadRequest, id="label-missing"),
        pytest.param(_with(label=5), BadRequest, id="label-not-a-string"),
        pytest.param(_with(label=""), Unprocessable, id="label-empty"),
        pytest.param(_with(label="x" * 129), Unprocessable, id="label-too-long"),
        pytest.param(_with(label="a\x00b"), Unprocessable, id="label-nul"),
        pytest.param(_with(label_translated=7), BadRequest, id="translated-not-a-string"),
        pytest.param(_with(label_translated=""), Unprocessable, id="translated-empty"),
        pytest.param(_with(confidence="0.5"), BadRequest, id="confidence-string"),
        pytest.param(_with(confidence=True), BadRequest, id="confidence-bool"),
        pytest.param(_with(confidence=1.01), Unprocessable, id="confidence-above-1"),
        pytest.param(_with(confidence=-0.1), Unprocessable, id="confidence-negative"),
        pytest.param(_with(confidence=float("nan")), Unprocessable, id="confidence-nan"),
        pytest.param(_with(bounding_box=_DROP), BadRequest, id="box-missing"),
        pytest.param(_with(bounding_box=[1, 2, 3, 4]), BadRequest, id="box-a-list"),
        pytest.param(_with(box_xmin=_DROP), BadRequest, id="xmin-missing"),
        pytest.param(_with(box_xmin="1"), BadRequest, id="xmin-string"),
        pytest.param(_with(box_xmin=1.5), BadRequest, id="xmin-fraction"),
        pytest.param(_with(box_ymax=True), BadRequest, id="ymax-bool"),
        pytest.param(_with(box_xmin=-1), Unprocessable, id="xmin-negative"),
        pytest.param(_with(box_ymin=-5, box_ymax=-1), Unprocessable, id="y-negative"),
        pytest.param(_with(box_xmin=11, box_xmax=10), Unprocessable, id="xmin-above-xmax"),
        pytest.param(_with(box_ymin=21, box_ymax=20), Unprocessable, id="ymin-above-ymax"),
        pytest.param(_with(box_xmax=201), Unprocessable, id="outside-the-image-width"),
        pytest.param(_with(box_ymax=250), Unprocessable, id="outside-the-image-height"),
        pytest.param(_with(box_xmax=2**40), Unprocessable, id="xmax-huge"),
    ],
)
def test_an_invalid_object_is_rejected_naming_the_image_and_object_and_nothing_is_stored(
    active, labeler_user, bad_object, error
):
    first, second, _ = image_ids(active)
    items = [
        {"image_id": first, "objects": [new_object()]},
        {"image_id": second, "objects": [new_object(), new_object(), bad_object]},
    ]
    before = campaign_state()
    with pytest.raises(error) as excinfo:
        replace_objects_from_body(campaign_id=active.pk, items=items, user=labeler_user)
    assert f"Image {second}, object 2" in excinfo.value.detail
    assert excinfo.value.extra == {"image_id": second, "object_index": 2}
    assert campaign_state() == before


@pytest.mark.parametrize(
    "items",
    [
        pytest.param({"image_id": 1, "objects": []}, id="dict-not-list"),
        pytest.param(["x"], id="item-not-dict"),
        pytest.param([{"objects": []}], id="image-id-missing"),
        pytest.param([{"image_id": "1", "objects": []}], id="image-id-string"),
        pytest.param([{"image_id": True, "objects": []}], id="image-id-bool"),
        pytest.param([{"image_id": 1}], id="objects-missing"),
        pytest.param([{"image_id": 1, "objects": {}}], id="objects-dict"),
        pytest.param(None, id="null"),
    ],
)
def test_a_malformed_body_is_a_400_and_nothing_is_stored(active, labeler_user, items):
    before = campaign_state()
    with pytest.raises(BadRequest):
        replace_objects_from_body(campaign_id=active.pk, items=items, user=labeler_user)
    assert campaign_state() == before


def test_the_same_image_twice_in_one_body_is_a_400(active, labeler_user):
    image = image_ids(active)[0]
    before = campaign_state()
    with pytest.raises(BadRequest, match="more than once"):
        replace_objects_from_body(campaign_id=active.pk, items=objects_body([image, image]), user=labeler_user)
    assert campaign_state() == before


def test_replacing_objects_takes_the_same_queries_for_2_and_20_images(
    labeler_user, django_assert_num_queries, django_assert_max_num_queries
):
    def objects_for(n):
        """A new active campaign and 3 objects for each of n of its images (one stays unlabeled)."""
        campaign = make_campaign(images=n + 1, status=Status.ACTIVE)
        return campaign, objects_body(image_ids(campaign)[:n], per_image=3)

    campaign, body = objects_for(2)
    with django_assert_max_num_queries(11) as captured:  # 11: the lookup of gold images to score
        replace_objects_from_body(campaign_id=campaign.pk, items=body, user=labeler_user)
    few = len(captured)
    assert BoundingBox.objects.filter(campaign_image__campaign=campaign).count() == 3 * 2
    campaign, body = objects_for(20)
    with django_assert_num_queries(few):
        replace_objects_from_body(campaign_id=campaign.pk, items=body, user=labeler_user)
    assert BoundingBox.objects.filter(campaign_image__campaign=campaign).count() == 3 * 20


def test_completing_by_objects_takes_the_same_queries_for_2_and_20_images(
    labeler_user, django_assert_num_queries, django_assert_max_num_queries
):
    def objects_for_every_image(n):
        """A new active campaign of n images and 2 objects for each of them."""
        campaign = make_campaign(images=n, status=Status.ACTIVE)
        return campaign, objects_body(image_ids(campaign), 2)

    campaign, body = objects_for_every_image(2)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 20 images must take no more
        replace_objects_from_body(campaign_id=campaign.pk, items=body, user=labeler_user)
    few = len(captured)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
    campaign, body = objects_for_every_image(20)
    with django_assert_num_queries(few):
        replace_objects_from_body(campaign_id=campaign.pk, items=body, user=labeler_user)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPLETED
