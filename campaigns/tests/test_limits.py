"""Limits on what one request or one agency key can make labelhub store.

``OBJECTS_PER_IMAGE_MAX`` (422 naming the image), ``IMAGES_PER_REQUEST_MAX`` (413) and
``SUBMISSION_REVISIONS_KEPT`` (older superseded revisions of an image are deleted).
"""

import math

import pytest

from campaigns.models import BoundingBox, Campaign, CampaignImage, Submission
from campaigns.tests.conftest import campaign_state, image_ids
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignLabelerFactory,
    make_campaign,
    new_object,
    objects_body,
    replace_objects_from_body,
)
from core.exceptions import Unprocessable
from imagesets.models import Image
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from testing.api import assert_error

pytestmark = pytest.mark.django_db

API = "/api/v1"
Status = Campaign.Status


@pytest.fixture
def active(labeler_client):
    campaign = make_campaign(images=4, status=Status.ACTIVE, labeler=labeler_client.user)
    return campaign


# --- objects per image ------------------------------------------------------------------


def test_more_objects_for_one_image_than_the_limit_is_a_422_naming_it_and_nothing_is_stored(
    active, labeler_client, settings
):
    settings.OBJECTS_PER_IMAGE_MAX = 3
    first, second, *_ = image_ids(active)
    before = campaign_state()

    response = labeler_client.put(
        f"{API}/campaigns/{active.pk}/objects",
        [{"image_id": first, "objects": [new_object()] * 3}, {"image_id": second, "objects": [new_object()] * 4}],
        format="json",
    )

    body = assert_error(response, 422)
    assert body["image_id"] == second and body["limit"] == 3
    assert f"Image {second}" in body["detail"] and "at most 3" in body["detail"]
    assert campaign_state() == before


def test_objects_up_to_the_limit_for_each_image_are_stored(active, labeler_client, settings):
    settings.OBJECTS_PER_IMAGE_MAX = 3
    first, second, *_ = image_ids(active)

    response = labeler_client.put(
        f"{API}/campaigns/{active.pk}/objects", objects_body([first, second], per_image=3), format="json"
    )

    assert response.status_code == 200, response.content
    assert BoundingBox.objects.count() == 6


def test_the_default_limit_is_a_thousand_objects_per_image(active, labeler_user):
    image = image_ids(active)[0]
    with pytest.raises(Unprocessable, match="1001 objects, at most 1000 per image"):
        replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], per_image=1001), user=labeler_user)
    assert not BoundingBox.objects.exists()
    replace_objects_from_body(campaign_id=active.pk, items=objects_body([image], per_image=1000), user=labeler_user)
    assert BoundingBox.objects.count() == 1000


# --- images per request -------------------------------------------------------------------


def test_submitting_objects_for_more_images_than_the_limit_is_a_413_and_nothing_is_stored(
    active, labeler_client, settings
):
    settings.IMAGES_PER_REQUEST_MAX = 3
    before = campaign_state()

    response = labeler_client.put(
        f"{API}/campaigns/{active.pk}/objects", objects_body(image_ids(active)), format="json"
    )

    body = assert_error(response, 413)
    assert "4 listed, at most 3" in body["detail"] and body["limit"] == 3
    assert campaign_state() == before
    ok = labeler_client.put(f"{API}/campaigns/{active.pk}/objects", objects_body(image_ids(active)[:3]), format="json")
    assert ok.status_code == 200, ok.content


def test_adding_more_images_to_a_campaign_than_the_limit_is_a_413_and_nothing_is_added(admin_client, settings):
    settings.IMAGES_PER_REQUEST_MAX = 3
    campaign = CampaignFactory()
    images = [ImageFactory() for _ in range(4)]
    before = campaign_state()

    response = admin_client.post(f"{API}/campaigns/{campaign.pk}/images", [{"id": i.pk} for i in images], format="json")

    assert_error(response, 413)
    assert campaign_state() == before
    ok = admin_client.post(f"{API}/campaigns/{campaign.pk}/images", [{"id": i.pk} for i in images[:3]], format="json")
    assert ok.status_code == 200, ok.content


def test_adding_more_images_to_an_image_set_than_the_limit_is_a_413_and_nothing_is_added(admin_client, settings):
    settings.IMAGES_PER_REQUEST_MAX = 3
    imageset = ImageSetFactory()
    images = [ImageFactory(imageset=None) for _ in range(4)]
    before = campaign_state()

    response = admin_client.post(
        f"{API}/image_sets/{imageset.pk}/images", [{"filepath": i.blobstorage_path} for i in images], format="json"
    )

    assert_error(response, 413)
    assert campaign_state() == before
    ok = admin_client.post(f"{API}/image_sets/{imageset.pk}/images", [{"id": i.pk} for i in images[:3]], format="json")
    assert ok.status_code == 200, ok.content
    assert Image.objects.filter(imageset=imageset).count() == 3


def test_the_limit_on_images_is_checked_before_any_item_is_read(admin_client, labeler_client, active, settings):
    # A list over the limit is refused whatever it holds: no per-item work is done for it.
    settings.IMAGES_PER_REQUEST_MAX = 2
    junk = ["not an item"] * 3

    assert_error(labeler_client.put(f"{API}/campaigns/{active.pk}/objects", junk, format="json"), 413)
    assert_error(admin_client.post(f"{API}/campaigns/{CampaignFactory().pk}/images", junk, format="json"), 413)
    assert_error(admin_client.post(f"{API}/image_sets/{ImageSetFactory().pk}/images", junk, format="json"), 413)


# --- revisions kept per image ---------------------------------------------------------------


def revisions(campaign_image_id) -> list[int]:
    """The submissions whose objects are stored for one campaign image, newest first."""
    return sorted(
        set(BoundingBox.objects.filter(campaign_image_id=campaign_image_id).values_list("submission_id", flat=True)),
        reverse=True,
    )


def submit(campaign, image_ids_, user, per_image=2, label="Plastic"):
    return replace_objects_from_body(
        campaign_id=campaign.pk, items=objects_body(image_ids_, per_image=per_image, label=label), user=user
    )


def test_only_the_current_and_the_latest_superseded_revisions_of_an_image_are_kept(active, labeler_user, settings):
    settings.SUBMISSION_REVISIONS_KEPT = 2
    rows = {row.image_id: row.pk for row in active.campaign_images.all()}
    first, second, third, _ = image_ids(active)
    once = submit(active, [third], labeler_user)  # labeled once, never again
    sent = [submit(active, [first, second], labeler_user, label=f"v{n}") for n in range(5)]

    for image in (first, second):
        assert revisions(rows[image]) == [sent[4].pk, sent[3].pk, sent[2].pk]
        assert CampaignImage.objects.get(pk=rows[image]).current_submission_id == sent[4].pk
        current = BoundingBox.objects.current().filter(campaign_image_id=rows[image])
        assert list(current.values_list("label", flat=True)) == ["v4", "v4"]
    assert revisions(rows[third]) == [once.pk]
    # Who sent what stays recorded, objects or not.
    assert Submission.objects.count() == 6


def test_with_no_revisions_kept_only_the_current_objects_stay(active, labeler_user, settings):
    settings.SUBMISSION_REVISIONS_KEPT = 0
    first = image_ids(active)[0]
    row = active.campaign_images.get(image_id=first)
    for _ in range(3):
        last = submit(active, [first], labeler_user)

    assert revisions(row.pk) == [last.pk]
    assert BoundingBox.objects.count() == 2


def test_a_revision_that_labeled_an_image_empty_keeps_the_earlier_ones_counted(active, labeler_user, settings):
    # An empty revision stores no object: the limit counts the revisions that hold objects.
    settings.SUBMISSION_REVISIONS_KEPT = 1
    first = image_ids(active)[0]
    row = active.campaign_images.get(image_id=first)
    kept = [submit(active, [first], labeler_user) for _ in range(3)][-1]
    empty = submit(active, [first], labeler_user, per_image=0)

    assert revisions(row.pk) == [kept.pk]
    assert CampaignImage.objects.get(pk=row.pk).current_submission_id == empty.pk
    assert not BoundingBox.objects.current().filter(campaign_image_id=row.pk).exists()


def test_the_revisions_of_other_campaigns_images_are_untouched(active, labeler_user, settings):
    settings.SUBMISSION_REVISIONS_KEPT = 0
    other = make_campaign(images=1, status=Status.ACTIVE)
    CampaignLabelerFactory(campaign=other, user=labeler_user)
    other_image = image_ids(other)[0]
    submit(other, [other_image], labeler_user)
    other_rows = list(BoundingBox.objects.filter(campaign_image__campaign=other).values_list("pk", flat=True))

    for _ in range(3):
        submit(active, image_ids(active)[:2], labeler_user)

    assert list(BoundingBox.objects.filter(campaign_image__campaign=other).values_list("pk", flat=True)) == other_rows


def test_deleting_old_revisions_takes_no_more_queries_however_many_there_are(
    labeler_user, settings, django_assert_num_queries, django_assert_max_num_queries
):
    settings.SUBMISSION_REVISIONS_KEPT = 1

    def submitted_before(images, rounds):
        """A campaign whose first ``images`` images were submitted ``rounds - 1`` times (one stays unlabeled)."""
        campaign = make_campaign(images=images + 1, status=Status.ACTIVE)
        for _ in range(rounds - 1):
            submit(campaign, image_ids(campaign)[:images], labeler_user, per_image=3)
        return campaign

    campaign = submitted_before(2, 1)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 20 images in 6 rounds must take no more
        submit(campaign, image_ids(campaign)[:2], labeler_user, per_image=3)
    few = len(captured)
    # 3 objects of the current revision and 3 of one superseded, per image.
    assert BoundingBox.objects.filter(campaign_image__campaign=campaign).count() == 3 * 2 * 1
    campaign = submitted_before(20, 6)
    with django_assert_num_queries(few) as many:
        submit(campaign, image_ids(campaign)[:20], labeler_user, per_image=3)
    assert BoundingBox.objects.filter(campaign_image__campaign=campaign).count() == 3 * 20 * 2
    assert len([q for q in many.captured_queries if q["sql"].startswith("DELETE")]) == 1
