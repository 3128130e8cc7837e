import factory

from accounts.tests.factories import UserFactory
from campaigns.models import Campaign, CampaignImage, CampaignLabeler
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
