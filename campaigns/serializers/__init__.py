"""Shapes of the campaign endpoints: request checks and the contract's representations.

Request serializers only check presence and JSON types; ``campaigns.inputs``
parses the values (and the bodies too large for DRF), the services check what
needs the database. ``campaigns``: campaigns; ``objects``: a campaign's images and their objects;
``reviews``: decisions, samples, statistics.
"""

from campaigns.serializers.agreement import (
    AgreementOutputSerializer,
    AnnotatorOutputSerializer,
    AnnotatorsOutputSerializer,
)
from campaigns.serializers.campaigns import (
    AccessTokenOutputSerializer,
    CampaignCreatedOutputSerializer,
    CampaignCreateInputSerializer,
    CampaignExportOutputSerializer,
    CampaignNewStatusField,
    CampaignOutputSerializer,
    CampaignStatusInputSerializer,
    EmailStringField,
    JsonObjectField,
    LabelerCampaignOutputSerializer,
    LabelerCampaignSchema,
    LabelSchemaField,
    LabelSchemaItemSerializer,
    LabelTranslationsField,
)
from campaigns.serializers.gold import (
    GoldCopiedOutputSerializer,
    GoldCopyInputSerializer,
    GoldImageOutputSerializer,
    GoldItemsInputSerializer,
    GoldQualityOutputSerializer,
    GoldUpdatedOutputSerializer,
    QualityOutputSerializer,
)
from campaigns.serializers.inspection import (
    CampaignInspectionOutputSerializer,
    InspectionOutputSerializer,
    InspectionSettingsInputSerializer,
)
from campaigns.serializers.objects import (
    AnnotatedImageObjectsInputSerializer,
    BoundingBoxSerializer,
    CampaignImageObjectsOutputSerializer,
    CampaignImageOutputSerializer,
    ImageObjectsInputSerializer,
    ImageRefInputSerializer,
    NewObjectInputSerializer,
    ObjectOutputSerializer,
)
from campaigns.serializers.reviews import (
    ImageReviewOutputSerializer,
    LotDecisionInputSerializer,
    ReviewItemInputSerializer,
    ReviewOutputSerializer,
    SampleInputSerializer,
    SampleOutputSerializer,
    StatsOutputSerializer,
    review_representation,
)

__all__ = [
    "AccessTokenOutputSerializer",
    "AgreementOutputSerializer",
    "AnnotatedImageObjectsInputSerializer",
    "AnnotatorOutputSerializer",
    "AnnotatorsOutputSerializer",
    "BoundingBoxSerializer",
    "CampaignCreateInputSerializer",
    "CampaignCreatedOutputSerializer",
    "CampaignExportOutputSerializer",
    "CampaignImageObjectsOutputSerializer",
    "CampaignImageOutputSerializer",
    "CampaignInspectionOutputSerializer",
    "CampaignNewStatusField",
    "CampaignOutputSerializer",
    "CampaignStatusInputSerializer",
    "EmailStringField",
    "GoldCopiedOutputSerializer",
    "GoldCopyInputSerializer",
    "GoldImageOutputSerializer",
    "GoldItemsInputSerializer",
    "GoldQualityOutputSerializer",
    "GoldUpdatedOutputSerializer",
    "ImageObjectsInputSerializer",
    "ImageRefInputSerializer",
    "ImageReviewOutputSerializer",
    "InspectionOutputSerializer",
    "InspectionSettingsInputSerializer",
    "JsonObjectField",
    "LabelSchemaField",
    "LabelSchemaItemSerializer",
    "LabelTranslationsField",
    "LabelerCampaignOutputSerializer",
    "LabelerCampaignSchema",
    "LotDecisionInputSerializer",
    "NewObjectInputSerializer",
    "ObjectOutputSerializer",
    "QualityOutputSerializer",
    "ReviewItemInputSerializer",
    "ReviewOutputSerializer",
    "SampleInputSerializer",
    "SampleOutputSerializer",
    "StatsOutputSerializer",
    "review_representation",
]
