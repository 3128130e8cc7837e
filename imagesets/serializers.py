"""Shapes of image sets and images on the wire, and validation of request bodies."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from imagesets.models import Image, ImageSet, ImageSetJob

_datetime = serializers.DateTimeField()


def _dt(value):
    return _datetime.to_representation(value) if value is not None else None


def job_representation(job: ImageSetJob | None) -> dict | None:
    if job is None:
        return None
    data = job.as_contract()
    return {key: _dt(value) if key.startswith("date_") else value for key, value in data.items()}


@extend_schema_field(OpenApiTypes.STR)
class StrictStringField(serializers.Field):
    """A JSON string, nothing coerced into one (DRF's CharField turns 123 into "123")."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class JsonObjectOrNullField(serializers.JSONField):
    default_error_messages = {"not_object": "Must be a JSON object or null."}

    def to_internal_value(self, data):
        if data is not None and not isinstance(data, dict):
            self.fail("not_object")
        return data


class ImageSetCreateInputSerializer(serializers.Serializer):
    # The title's format is checked by the service (422, not 400).
    title = StrictStringField()
    metadata = JsonObjectOrNullField(allow_null=True, default=None)


class ImageSetStatusInputSerializer(serializers.Serializer):
    new_status = StrictStringField()


class ImageRefSerializer(serializers.Serializer):
    """``{"id": 42}`` or ``{"filepath": "<blobstorage_path>"}``."""

    id = serializers.IntegerField(required=False, min_value=1)
    filepath = StrictStringField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("id"), bool):
            raise serializers.ValidationError({"id": ["Must be an integer."]})
        return super().to_internal_value(data)

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError("Give exactly one of 'id' or 'filepath'.")
        if "filepath" in attrs and not attrs["filepath"]:
            raise serializers.ValidationError({"filepath": ["Must not be empty."]})
        return attrs


class ImageSetSerializer(serializers.ModelSerializer):
    imageset_id = serializers.IntegerField(source="id")
    created_by = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()

    class Meta:
        model = ImageSet
        fields = [
            "imageset_id", "title", "status", "metadata", "blobstorage_path",
            "date_created", "date_finished", "created_by", "job",
        ]

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.email if obj.created_by_id else None

    def get_job(self, obj) -> dict | None:
        try:
            job = obj.job
        except ImageSetJob.DoesNotExist:
            return None
        return job_representation(job)


class ImageSerializer(serializers.ModelSerializer):
    image_id = serializers.IntegerField(source="id")
    imageset = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "image_id", "blobstorage_path", "imageset", "date_taken", "location",
            "type", "metadata", "tss_id", "file",
        ]

    def get_imageset(self, obj) -> dict | None:
        if obj.imageset_id is None:
            return None
        return {"imageset_id": obj.imageset_id, "title": obj.imageset.title}

    def get_location(self, obj) -> dict:
        return {"description": obj.location_description, "lat": obj.lat, "lon": obj.lon}

    def get_file(self, obj) -> dict:
        return {
            "filetype": obj.filetype or None,
            "filesize": obj.filesize,
            "dimensions": {"width": obj.width, "height": obj.height},
        }
