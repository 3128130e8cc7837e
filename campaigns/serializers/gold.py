"""Shapes of the gold endpoints (image-admins only): the references given, the copy's body, the answers.

The body of ``PUT /campaigns/{id}/gold`` may list 10,000 images: ``campaigns.inputs.parse_gold_items``
parses it and it is only described here. The answers' ``to_representation`` is written out.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.inputs import GoldCopy, validate_gold_image_ids, validate_source_campaign_id
from campaigns.models import GoldImage
from campaigns.serializers.objects import BoundingBoxSerializer, ImageObjectsInputSerializer
from core.exceptions import BadRequest
from core.serializers import format_datetime
from core.validators import ID_MAX

# Figures are rounded to six places in answers (as the vendor statistics' rejection rate).
PLACES = 6


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, PLACES)


def figures_representation(figures: dict) -> dict:
    return {name: rounded(value) for name, value in figures.items()}


# --- requests -----------------------------------------------------------------


class GoldItemsInputSerializer(serializers.Serializer):
    """Describes ``PUT /campaigns/{id}/gold`` for the OpenAPI document; ``parse_gold_items`` parses it."""

    items = ImageObjectsInputSerializer(
        many=True,
        help_text="Each image's reference: every object on it (`[]`: nothing to find). Replaces the reference "
        "the image had; `confidence` is ignored.",
    )

    class Meta:
        ref_name = "GoldItemsInput"


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX, "example": 5})
class SourceCampaignField(serializers.JSONField):
    """Any JSON value is read; ``validate_source_campaign_id`` checks it (400/422)."""


@extend_schema_field({"type": "array", "items": {"type": "integer"}, "nullable": True, "example": [17, 18, 40]})
class GoldImageIdsField(serializers.JSONField):
    """Any JSON value is read; ``validate_gold_image_ids`` checks it (400/413)."""


class GoldCopyInputSerializer(serializers.Serializer):
    campaign_id = SourceCampaignField(
        help_text="The earlier campaign over the same images whose accepted submissions become the references."
    )
    image_ids = GoldImageIdsField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only these images (each in both campaigns and accepted there). Null or absent: every image "
        "the two campaigns share whose current revision there is accepted.",
    )

    class Meta:
        ref_name = "GoldCopyInput"

    def run_validation(self, data=serializers.empty):
        if not isinstance(data, dict):
            raise BadRequest('Expected an object: {"campaign_id": <id>, "image_ids": [<id>, ...] or null}')
        return super().run_validation(data)

    def validate(self, attrs) -> GoldCopy:
        return GoldCopy(
            campaign_id=validate_source_campaign_id(attrs.get("campaign_id")),
            image_ids=validate_gold_image_ids(attrs.get("image_ids")),
        )


# --- responses ----------------------------------------------------------------


class FiguresOutputSerializer(serializers.Serializer):
    precision = serializers.FloatField(allow_null=True, help_text="True positives / boxes submitted.")
    recall = serializers.FloatField(allow_null=True, help_text="True positives / reference boxes.")
    f1 = serializers.FloatField(allow_null=True, help_text="2 TP / (2 TP + FP + FN).")
    mean_iou = serializers.FloatField(
        allow_null=True, help_text="Mean IoU of the matched boxes; null when none matched."
    )

    class Meta:
        ref_name = "GoldFigures"


class ReferenceBoxOutputSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="As stored: translated as an agency's label would be.")
    bounding_box = BoundingBoxSerializer()

    class Meta:
        ref_name = "GoldReferenceBox"


class GoldImageOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    url = serializers.CharField(help_text="The image, relative to the API base: /images/<id>")
    source = serializers.ChoiceField(
        choices=GoldImage.Source.choices, help_text="Where the reference came from: given, copied, imported."
    )
    source_campaign_id = serializers.IntegerField(allow_null=True, help_text="The campaign it was copied from.")
    objects = ReferenceBoxOutputSerializer(many=True, help_text="The reference boxes, in the order given.")
    score = FiguresOutputSerializer(
        allow_null=True,
        help_text="The agency's current submission of the image scored against the reference; null until "
        "the agency delivers the image.",
    )
    date_updated = serializers.DateTimeField(help_text="When the reference was last given.")

    class Meta:
        ref_name = "GoldImage"

    def to_representation(self, gold):
        latest = gold.latest_scores[0] if gold.latest_scores else None
        return {
            "image_id": gold.image_id,
            "url": f"/images/{gold.image_id}",
            "source": gold.source,
            "source_campaign_id": gold.source_campaign_id,
            "objects": [
                {
                    "label": box.label,
                    "bounding_box": {"xmin": box.xmin, "xmax": box.xmax, "ymin": box.ymin, "ymax": box.ymax},
                }
                for box in gold.boxes.all()
            ],
            "score": None if latest is None else figures_representation(latest.figures),
            "date_updated": format_datetime(gold.date_updated),
        }


class GoldUpdatedOutputSerializer(serializers.Serializer):
    given = serializers.IntegerField(help_text="Images whose reference this request gave.")
    images = serializers.IntegerField(help_text="The campaign's gold images now.")

    class Meta:
        ref_name = "GoldUpdated"


class GoldCopiedOutputSerializer(GoldUpdatedOutputSerializer):
    image_ids = serializers.ListField(child=serializers.IntegerField(), help_text="The images given a reference.")

    class Meta:
        ref_name = "GoldCopied"


class LabelFiguresOutputSerializer(serializers.Serializer):
    precision = serializers.FloatField()
    recall = serializers.FloatField()
    f1 = serializers.FloatField()

    class Meta:
        ref_name = "GoldLabelFigures"


class GoldQualityOutputSerializer(serializers.Serializer):
    images = serializers.IntegerField(help_text="The campaign's gold images.")
    scored = serializers.IntegerField(help_text="Gold images the agency delivered (scored).")
    precision = serializers.FloatField(allow_null=True, help_text="Pooled: summed TP / (TP + FP); null: none scored.")
    recall = serializers.FloatField(allow_null=True, help_text="Pooled: summed TP / (TP + FN).")
    f1 = serializers.FloatField(allow_null=True, help_text="Pooled: 2 TP / (2 TP + FP + FN).")
    mean_iou = serializers.FloatField(allow_null=True, help_text="Mean IoU over every matched box.")
    by_label = serializers.DictField(child=LabelFiguresOutputSerializer(), help_text="The same, per label.")

    class Meta:
        ref_name = "GoldQuality"


class QualityOutputSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    gold = GoldQualityOutputSerializer(
        help_text="The latest score of every delivered gold image, counts pooled (true positives, false "
        "positives and false negatives summed over the images)."
    )

    class Meta:
        ref_name = "CampaignQuality"

    def to_representation(self, value):
        gold = value["gold"]
        return {
            "campaign_id": value["campaign_id"],
            "gold": {
                "images": gold["images"],
                "scored": gold["scored"],
                **figures_representation({name: gold[name] for name in ("precision", "recall", "f1", "mean_iou")}),
                "by_label": {label: figures_representation(item) for label, item in gold["by_label"].items()},
            },
        }
