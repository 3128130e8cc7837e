"""campaigns.selectors: progress, a labeler's reach, the objects of an image in one campaign."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, CampaignImage
from campaigns.selectors import image_objects_for_campaigns, labeler_can_read_image
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignImageFactory,
    CampaignLabelerFactory,
    make_campaign,
    objects_body,
    progress,
    replace_objects_from_body,
)
from core.exceptions import NotFound
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

Status = Campaign.Status


# --- selectors --------------------------------------------------------------------------


def test_progress_stays_right_when_the_query_also_joins_labelers():
    campaign = make_campaign(images=3, status=Status.ACTIVE)
    CampaignImage.objects.filter(pk=campaign.campaign_images.first().pk).update(labeled=True)
    a, b = UserFactory(), UserFactory()
    CampaignLabelerFactory(campaign=campaign, user=a)
    CampaignLabelerFactory(campaign=campaign, user=b)
    row = Campaign.objects.filter(labelers=a).with_progress().get()
    assert (row.progress_done, row.progress_total) == (1, 3)
    rows = Campaign.objects.filter(labelers__in=[a, b]).with_progress()
    assert {(r.progress_done, r.progress_total) for r in rows} == {(1, 3)}


def test_progress_of_a_campaign_without_images_is_zero_of_zero():
    campaign = CampaignFactory()
    assert progress(campaign.pk) == {"done": 0, "total": 0}


def test_a_labeler_can_read_only_images_of_their_campaigns(labeler_user):
    own = make_campaign(images=1, labeler=labeler_user)
    other = make_campaign(images=1)
    loose = ImageFactory()
    assert labeler_can_read_image(user=labeler_user, image_id=image_ids(own)[0])
    assert not labeler_can_read_image(user=labeler_user, image_id=image_ids(other)[0])
    assert not labeler_can_read_image(user=labeler_user, image_id=loose.pk)


class TestImageObjectsPriority:
    """The six cases of ``GET /images/{id}/objects`` (plus an unknown image)."""

    @pytest.fixture
    def image(self):
        return ImageFactory()

    def _label(self, image, label, *, status=Status.ACTIVE, user=None):
        campaign = CampaignFactory(status=Status.ACTIVE)
        CampaignImageFactory(campaign=campaign, image=image)
        CampaignImageFactory(campaign=campaign)  # keeps it active after labeling
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image.pk], 1, label), user=user)
        Campaign.objects.filter(pk=campaign.pk).update(status=status)
        return campaign

    def _labels(self, image, campaign_ids):
        return [o.label for o in image_objects_for_campaigns(image_id=image.pk, campaign_ids=campaign_ids)]

    def test_a_listed_campaign_that_labeled_the_image_gives_its_objects(self, image):
        first = self._label(image, "First")
        self._label(image, "Second")
        assert self._labels(image, [first.pk]) == ["First"]

    def test_the_first_listed_campaign_that_labeled_the_image_wins(self, image):
        unlabeled = CampaignFactory(status=Status.ACTIVE)
        CampaignImageFactory(campaign=unlabeled, image=image)
        labeled = self._label(image, "Labeled")
        later = self._label(image, "Later")
        assert self._labels(image, [unlabeled.pk, labeled.pk, later.pk]) == ["Labeled"]
        assert self._labels(image, [later.pk, labeled.pk]) == ["Later"]

    def test_a_listed_campaign_without_the_image_is_skipped(self, image):
        without = make_campaign(images=1, status=Status.FINISHED)
        labeled = self._label(image, "Labeled")
        assert self._labels(image, [without.pk]) == []
        assert self._labels(image, [without.pk, labeled.pk]) == ["Labeled"]

    def test_with_none_listed_the_most_recently_finished_campaign_wins(self, image):
        from datetime import timedelta

        older = self._label(image, "Older", status=Status.FINISHED)
        newer = self._label(image, "Newer", status=Status.FINISHED)
        self._label(image, "Active")  # labeled but not finished: never chosen by default
        now = timezone.now()
        Campaign.objects.filter(pk=older.pk).update(date_finished=now)
        Campaign.objects.filter(pk=newer.pk).update(date_finished=now - timedelta(days=1))
        assert self._labels(image, []) == ["Older"]

    def test_with_none_listed_and_no_finished_campaign_the_answer_is_empty(self, image):
        self._label(image, "Active")
        self._label(image, "Completed", status=Status.COMPLETED)
        assert self._labels(image, []) == []

    def test_an_unknown_listed_campaign_is_a_404(self, image):
        labeled = self._label(image, "Labeled")
        with pytest.raises(NotFound, match="Campaign 98765"):
            image_objects_for_campaigns(image_id=image.pk, campaign_ids=[labeled.pk, 98765])

    def test_an_unknown_image_is_a_404(self):
        with pytest.raises(NotFound):
            image_objects_for_campaigns(image_id=98765, campaign_ids=[])

    def test_only_the_current_objects_are_returned(self, image):
        campaign = self._label(image, "Old")
        replace_objects_from_body(campaign_id=campaign.pk, items=objects_body([image.pk], 2, "New"), user=None)
        objects = image_objects_for_campaigns(image_id=image.pk, campaign_ids=[campaign.pk])
        assert [o.label for o in objects] == ["New", "New"]
        assert {(o.campaign_image.campaign_id, o.campaign_image.image_id) for o in objects} == {(campaign.pk, image.pk)}
