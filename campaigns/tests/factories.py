import factory

from accounts.tests.factories import UserFactory
from campaigns.inputs import parse_object_items
from campaigns.models import Campaign, CampaignImage, CampaignLabeler
from campaigns.selectors import campaign_get
from campaigns.serializers import CampaignCreateInputSerializer, CampaignStatusInputSerializer
from campaigns.services import (
    campaign_add_images,
    campaign_create,
    campaign_set_status,
    objects_replace,
)
from imagesets.inputs import parse_image_refs
from imagesets.tests.factories import ImageFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    title = factory.Sequence(lambda n: f"campaign-{n}")


class CampaignLabelerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignLabeler

    campaign = factory.SubFactory(CampaignFactory)
    user = factory.SubFactory(UserFactory)


class CampaignImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignImage

    campaign = factory.SubFactory(CampaignFactory)
    image = factory.SubFactory(ImageFactory)


def make_campaign(*, images: int = 2, status: str = Campaign.Status.CREATED, labeler=None, **kwargs) -> Campaign:
    """A campaign holding ``images`` new images (200x200), optionally with a labeler."""
    campaign = CampaignFactory(status=status, **kwargs)
    for _ in range(images):
        CampaignImageFactory(campaign=campaign)
    if labeler is not None:
        CampaignLabelerFactory(campaign=campaign, user=labeler)
    return campaign


def box(xmin: int = 1, xmax: int = 10, ymin: int = 2, ymax: int = 20) -> dict:
    return {"xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax}


def new_object(label: str = "Plastic", **fields) -> dict:
    """One NewObject of the contract's ``PUT /campaigns/{id}/objects`` body."""
    return {"label": label, "confidence": 0.5, "bounding_box": box(), **fields}


def objects_body(image_ids, per_image: int = 1, label: str = "Plastic") -> list[dict]:
    return [{"image_id": i, "objects": [new_object(label) for _ in range(per_image)]} for i in image_ids]


# --- the API's calls without HTTP: the raw body parsed as the view parses it, then the service ---


def create_campaign_from_body(*, created_by=None, **fields):
    """``POST /campaigns``: the values checked as its input serializer checks them (any Python value: the
    JSON-type layer before them is DRF's), then ``campaign_create``."""
    new = CampaignCreateInputSerializer().validate(fields)
    return campaign_create(
        title=new.title,
        labeler_email=new.labeler_email,
        metadata=new.metadata,
        label_translations=new.label_translations,
        created_by=created_by,
    )


def set_status_from_body(*, campaign_id, new_status, **options) -> Campaign:
    """``PUT /campaigns/{id}``: the status checked as its input serializer checks it, then ``campaign_set_status``."""
    new_status = CampaignStatusInputSerializer().validate({"new_status": new_status})["new_status"]
    return campaign_set_status(campaign_id=campaign_id, new_status=new_status, **options)


def add_images_from_body(*, campaign_id, items):
    """``POST /campaigns/{id}/images``: ``imagesets.inputs.parse_image_refs``, then ``campaign_add_images``."""
    refs = parse_image_refs(items)
    return campaign_add_images(campaign_id=campaign_id, image_ids=refs.ids, filepaths=refs.paths)


def replace_objects_from_body(*, campaign_id, items, user, api_key=None):
    """``PUT /campaigns/{id}/objects``: ``parse_object_items``, then ``objects_replace``."""
    return objects_replace(
        campaign_id=campaign_id, objects_by_image=parse_object_items(items), user=user, api_key=api_key
    )


def progress(campaign_id) -> dict:
    """The campaign's ``progress`` as ``GET /campaigns/{id}`` reads it."""
    campaign = campaign_get(campaign_id=campaign_id)
    return {"done": campaign.progress_done, "total": campaign.progress_total}
