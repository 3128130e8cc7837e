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
