"""campaigns.services.images: adding images to a campaign (through the API's parsing, and by ids)."""

import math

import pytest

from campaigns.models import Campaign, CampaignImage
from campaigns.tests.conftest import image_ids
from campaigns.tests.factories import (
    CampaignFactory,
    add_images_from_body,
    make_campaign,
    progress,
)
from core.exceptions import BadRequest, Conflict, NotFound
from imagesets.tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

Status = Campaign.Status


# --- campaign_add_images --------------------------------------------------------------


def test_images_are_added_by_id_and_by_filepath():
    campaign = CampaignFactory()
    by_id, by_path = ImageFactory(), ImageFactory()
    add_images_from_body(campaign_id=campaign.pk, items=[{"id": by_id.pk}, {"filepath": by_path.blobstorage_path}])
    assert image_ids(campaign) == sorted([by_id.pk, by_path.pk])
    assert progress(campaign.pk) == {"done": 0, "total": 2}


def test_images_already_in_the_campaign_are_ignored():
    campaign = make_campaign(images=1)
    present = image_ids(campaign)[0]
    other = ImageFactory()
    add_images_from_body(campaign_id=campaign.pk, items=[{"id": present}, {"id": other.pk}, {"id": other.pk}])
    assert image_ids(campaign) == sorted([present, other.pk])


@pytest.mark.parametrize("unknown", [{"id": 999999}, {"id": -1}, {"id": 2**70}, {"filepath": "images/nope.png"}])
def test_an_unknown_image_is_a_404_naming_it_and_nothing_is_added(unknown):
    campaign = CampaignFactory()
    known = ImageFactory()
    with pytest.raises(NotFound, match="Unknown image provided") as excinfo:
        add_images_from_body(campaign_id=campaign.pk, items=[{"id": known.pk}, unknown])
    assert str(next(iter(unknown.values()))) in excinfo.value.detail
    assert not CampaignImage.objects.exists()


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.COMPLETED, Status.FINISHED])
def test_adding_images_unless_created_is_a_409(status):
    campaign = CampaignFactory(status=status)
    image = ImageFactory()
    with pytest.raises(Conflict):
        add_images_from_body(campaign_id=campaign.pk, items=[{"id": image.pk}])
    assert not CampaignImage.objects.exists()


@pytest.mark.parametrize(
    "items",
    [
        {"id": 1},
        "1",
        [1],
        [{"id": "1"}],
        [{"id": True}],
        [{"filepath": ""}],
        [{"filepath": 3}],
        [{"id": 1, "filepath": "x"}],
        [{}],
        None,
    ],
)
def test_a_malformed_image_list_is_a_400(items):
    campaign = CampaignFactory()
    ImageFactory(pk=1)
    with pytest.raises(BadRequest):
        add_images_from_body(campaign_id=campaign.pk, items=items)
    assert not CampaignImage.objects.exists()


def test_adding_images_takes_the_same_queries_for_2_and_20_images(
    django_assert_num_queries, django_assert_max_num_queries
):
    def images_for(n):
        """A new campaign and n new images to add, half by id and half by path."""
        campaign = CampaignFactory()
        images = ImageFactory.create_batch(n)
        items = [{"id": i.pk} for i in images[: n // 2]] + [{"filepath": i.blobstorage_path} for i in images[n // 2 :]]
        return campaign, items

    campaign, items = images_for(2)
    with django_assert_max_num_queries(math.inf) as captured:  # any number: 20 images must take no more
        add_images_from_body(campaign_id=campaign.pk, items=items)
    few = len(captured)
    assert campaign.campaign_images.count() == 2
    campaign, items = images_for(20)
    with django_assert_num_queries(few):
        add_images_from_body(campaign_id=campaign.pk, items=items)
    assert campaign.campaign_images.count() == 20
