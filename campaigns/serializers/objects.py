"""Shapes of a campaign's images and the objects labeled on them: request bodies and answers.

The bodies (image references, 10,000 images of objects) are too large for DRF:
``campaigns.inputs`` parses them, and they are only described here for the
OpenAPI document. The answers' ``to_representation`` is written out, as a page
may hold 10,000 objects.
"""

from __future__ import annotations

from rest_framework import serializers

from campaigns.inputs import ANNOTATOR_PATTERN, ANNOTATOR_RULE
from campaigns.models import ANNOTATOR_MAX_LENGTH, LABEL_MAX_LENGTH
from campaigns.serializers.reviews import ImageReviewOutputSerializer, review_representation
from core.serializers import format_datetime
from core.validators import COORDINATE_MAX, NO_NUL_PATTERN
from imagesets import serializers as imagesets_serializers

# --- requests -----------------------------------------------------------------

# The next four describe request bodies in the API schema only: ``campaigns.inputs``
# parses them (a 10,000-object body is validated in plain Python, not by DRF).
# ``campaigns/tests/test_input_contract.py`` checks that the parser and the schema
# published from these accept and refuse the same example bodies.


class ImageRefInputSerializer(imagesets_serializers.ImageRefInputSerializer):
    class Meta:
        ref_name = "ImageRefInput"


class BoundingBoxSerializer(serializers.Serializer):
    """Pixels from the image's top left corner: `xmin <= xmax`, `ymin <= ymax`, inside the image."""

    xmin = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)
    xmax = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)
    ymin = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)
    ymax = serializers.IntegerField(min_value=0, max_value=COORDINATE_MAX)


class NewObjectInputSerializer(serializers.Serializer):
    label = serializers.RegexField(
        NO_NUL_PATTERN, min_length=1, max_length=LABEL_MAX_LENGTH, help_text="What was found."
    )
    label_translated = serializers.RegexField(
        NO_NUL_PATTERN,
        required=False,
        allow_null=True,
        min_length=1,
        max_length=LABEL_MAX_LENGTH,
        help_text="Optional: stored as the label, and `label` kept as `label_original`.",
    )
    confidence = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=1, help_text="Optional, 0 to 1."
    )
    bounding_box = BoundingBoxSerializer()


class ImageObjectsInputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField(help_text="An image of this campaign; each image at most once per request.")
    objects = NewObjectInputSerializer(
        many=True, help_text="Every object found on the image; replaces what was stored. `[]`: nothing found."
    )


class AnnotatedImageObjectsInputSerializer(ImageObjectsInputSerializer):
    """An image of ``PUT /campaigns/{id}/objects``: its objects and, optionally, who labeled it."""

    annotator = serializers.RegexField(
        ANNOTATOR_PATTERN,
        required=False,
        allow_null=True,
        min_length=1,
        max_length=ANNOTATOR_MAX_LENGTH,
        help_text=f"Added, optional: the agency's own id of the worker who labeled the image ({ANNOTATOR_RULE}), "
        "for its per-annotator figures (`GET /campaigns/{id}/annotators`). Never an e-mail address: one is a 422.",
    )


# --- responses ----------------------------------------------------------------


class CampaignImageOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    url = serializers.CharField(help_text="The image, relative to the API base: /images/<id>")
    labeled = serializers.BooleanField(
        help_text="Added: whether the image counts as labeled (a rejected image does not until it is resubmitted)."
    )
    review = ImageReviewOutputSerializer(
        allow_null=True,
        help_text="Added: the decision on the image's current revision; null while it awaits review or is unlabeled.",
    )
    width = serializers.IntegerField(
        allow_null=True,
        help_text="Added: the file's width in pixels, the space boxes are given in; null when it could not be read.",
    )
    height = serializers.IntegerField(
        allow_null=True, help_text="Added: the file's height in pixels; null when it could not be read."
    )

    def to_representation(self, campaign_image):
        return {
            "image_id": campaign_image.image_id,
            "url": f"/images/{campaign_image.image_id}",
            "labeled": campaign_image.labeled,
            "review": review_representation(campaign_image.current_review),
            "width": campaign_image.image.width,
            "height": campaign_image.image.height,
        }


class ObjectOutputSerializer(serializers.Serializer):
    """An object labeled on an image. (``to_representation`` is written out: a page may hold 10,000.)"""

    object_id = serializers.IntegerField()
    image_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    label = serializers.CharField()
    label_original = serializers.CharField(help_text="The label as the labeler sent it.")
    confidence = serializers.FloatField(allow_null=True)
    bounding_box = BoundingBoxSerializer()
    date_added = serializers.DateTimeField()

    def to_representation(self, obj):
        campaign_image = obj.campaign_image
        return {
            "object_id": obj.pk,
            "image_id": campaign_image.image_id,
            "campaign_id": campaign_image.campaign_id,
            "label": obj.label,
            "label_original": obj.label_original,
            "confidence": obj.confidence,
            "bounding_box": {"xmin": obj.xmin, "xmax": obj.xmax, "ymin": obj.ymin, "ymax": obj.ymax},
            "date_added": format_datetime(obj.date_added),
        }


_object_serializer = ObjectOutputSerializer()


class CampaignImageObjectsOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    url = serializers.CharField()
    objects = ObjectOutputSerializer(many=True)

    def to_representation(self, campaign_image):
        return {
            "image_id": campaign_image.image_id,
            "url": f"/images/{campaign_image.image_id}",
            "objects": [_object_serializer.to_representation(o) for o in campaign_image.current_objects],
        }
