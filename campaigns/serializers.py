"""Shapes of the campaign endpoints: request checks and the contract's representations.

Request serializers only check presence and JSON types; the services check
everything that needs the database or the domain rules.
"""

from __future__ import annotations

from datetime import datetime

from rest_framework import serializers

_datetime = serializers.DateTimeField()


def format_datetime(value: datetime | None) -> str | None:
    return _datetime.to_representation(value) if value is not None else None


def job_representation(job) -> dict | None:
    """The contract's ``job`` object: ``None`` before any job, else ``job.as_contract()``."""
    if job is None:
        return None
    return {
        key: format_datetime(value) if isinstance(value, datetime) else value
        for key, value in job.as_contract().items()
    }


class StrictCharField(serializers.CharField):
    """A JSON string only: unlike ``CharField`` it does not turn ``5`` into ``"5"``."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- requests -----------------------------------------------------------------


class CampaignCreateInputSerializer(serializers.Serializer):
    title = StrictCharField(allow_blank=True, trim_whitespace=False)
    labeler_email = StrictCharField(allow_blank=True)
    metadata = serializers.JSONField(required=False, allow_null=True, default=None)
    label_translations = serializers.JSONField(required=False, allow_null=True, default=None)


class CampaignStatusInputSerializer(serializers.Serializer):
    new_status = StrictCharField()


# The next three describe request bodies in the API schema only: the services
# check them (a 10,000-object body is validated in plain Python, not by DRF).


class ImageRefInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="An image id; or give filepath")
    filepath = serializers.CharField(required=False, help_text="An image's blobstorage_path; or give id")


class BoundingBoxSerializer(serializers.Serializer):
    xmin = serializers.IntegerField(min_value=0)
    xmax = serializers.IntegerField(min_value=0)
    ymin = serializers.IntegerField(min_value=0)
    ymax = serializers.IntegerField(min_value=0)


class NewObjectInputSerializer(serializers.Serializer):
    label = serializers.CharField(min_length=1, max_length=128)
    label_translated = serializers.CharField(required=False, allow_null=True, min_length=1, max_length=128)
    confidence = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    bounding_box = BoundingBoxSerializer()


class ImageObjectsInputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    objects = NewObjectInputSerializer(many=True)


# --- responses ----------------------------------------------------------------


class CampaignOutputSerializer(serializers.Serializer):
    """A campaign as the contract shows it; needs ``Campaign.objects.with_progress()``."""

    campaign_id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.SerializerMethodField()
    metadata = serializers.JSONField()
    label_translations = serializers.JSONField()
    date_created = serializers.DateTimeField()
    date_started = serializers.DateTimeField()
    date_completed = serializers.DateTimeField()
    date_finished = serializers.DateTimeField()
    created_by = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()

    def get_progress(self, campaign) -> dict:
        return {"done": campaign.progress_done, "total": campaign.progress_total}

    def get_created_by(self, campaign) -> str | None:
        return campaign.created_by.email if campaign.created_by_id else None

    def get_job(self, campaign) -> dict | None:
        return job_representation(getattr(campaign, "job", None))


class CampaignCreatedOutputSerializer(CampaignOutputSerializer):
    access_token = serializers.SerializerMethodField()

    def get_access_token(self, campaign) -> dict:
        return self.context["issued_key"].as_token()


class CampaignImageOutputSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    url = serializers.CharField(help_text="The image, relative to the API base: /images/<id>")

    def to_representation(self, campaign_image):
        return {"image_id": campaign_image.image_id, "url": f"/images/{campaign_image.image_id}"}


class ObjectOutputSerializer(serializers.Serializer):
    """An object as returned. ``to_representation`` is written out: a page may hold 10,000."""

    object_id = serializers.IntegerField()
    image_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    label = serializers.CharField()
    label_original = serializers.CharField()
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
