"""Answers of ``GET /campaigns/{id}/agreement`` and ``GET /campaigns/{id}/annotators`` (described for the document;
the views build the dicts, ``campaigns.agreement`` and ``campaigns.annotators`` compute them)."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.models import ANNOTATOR_MAX_LENGTH
from core.pagination import MAX_PER_PAGE


class PagePositionSerializer(serializers.Serializer):
    """The contract's pagination object, here of a list inside the answer."""

    page = serializers.IntegerField(min_value=1)
    pages = serializers.IntegerField(min_value=1)
    total = serializers.IntegerField(min_value=0)
    per_page = serializers.IntegerField(min_value=1, max_value=MAX_PER_PAGE)
    next = serializers.IntegerField(allow_null=True)
    prev = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "ListPage"


class LabelAgreementSerializer(serializers.Serializer):
    f1 = serializers.FloatField(help_text="The label's F1, its boxes' counts pooled over the shared images.")

    class Meta:
        ref_name = "LabelAgreement"


class DisagreementSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    f1 = serializers.FloatField(help_text="This image's own F1, below 1.")

    class Meta:
        ref_name = "Disagreement"


class AgreementOutputSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    with_campaign_id = serializers.IntegerField(help_text="The campaign compared with (`with`).")
    iou_threshold = serializers.FloatField(
        help_text="The IoU two boxes of the same label need to count as one box (`GOLD_IOU_THRESHOLD`)."
    )
    images = serializers.IntegerField(help_text="Images both campaigns hold and count as labeled.")
    f1 = serializers.FloatField(
        allow_null=True,
        help_text="F1 of one campaign's boxes against the other's, the counts pooled over the images (1: the "
        "same boxes everywhere); null without a shared labeled image.",
    )
    mean_iou = serializers.FloatField(
        allow_null=True, help_text="Mean IoU of the boxes both drew; null when no box matched."
    )
    by_label = serializers.DictField(child=LabelAgreementSerializer(), help_text="Per label, by label.")
    pagination = PagePositionSerializer(help_text="The page of `disagreements` (`page`, `per_page`).")
    disagreements = DisagreementSerializer(
        many=True, help_text="The images whose own F1 is below 1, lowest first (ties by image id): one page."
    )

    class Meta:
        ref_name = "Agreement"


class AnnotatorOutputSerializer(serializers.Serializer):
    annotator = serializers.CharField(
        allow_null=True,
        max_length=ANNOTATOR_MAX_LENGTH,
        help_text="The agency's worker id; null: the images delivered without one.",
    )
    images = serializers.IntegerField(help_text="Images whose current revision is this annotator's, now.")
    pending = serializers.IntegerField(help_text="Of those, the images awaiting review, now.")
    delivered = serializers.IntegerField(
        help_text="Image revisions this annotator delivered in the period (a resubmission counts again)."
    )
    accepted = serializers.IntegerField(
        help_text="Images whose revision by this annotator was accepted in the period (each image once)."
    )
    rejected = serializers.IntegerField(
        help_text="Images whose revision by this annotator was rejected in the period (each image once)."
    )
    decisions = serializers.IntegerField(help_text="Every decision on this annotator's revisions in the period.")
    rejections = serializers.IntegerField(help_text="Every rejection of this annotator's revisions in the period.")
    rejection_rate = serializers.FloatField(allow_null=True, help_text="rejections / decisions; null for none.")

    class Meta:
        ref_name = "AnnotatorFigures"


class AnnotatorsOutputSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    pagination = PagePositionSerializer()
    annotators = AnnotatorOutputSerializer(many=True, help_text="By annotator id; the images naming none last.")

    class Meta:
        ref_name = "Annotators"
