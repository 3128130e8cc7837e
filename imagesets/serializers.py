"""Shapes of image sets and images on the wire, and their small request bodies parsed.

An input serializer's fields check presence and JSON types (DRF's 400, every wrong
field named at once); its ``validate`` then checks the values, each refusal the
contract's error raised at once. A list of image references (10,000 items) is only
described here: ``imagesets.inputs.parse_image_refs`` parses it.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import (
    JobSerializer,
    StrictIntegerField,
    StrictStringField,
    TitleField,
    job_representation,
)
from core.validators import NOT_AN_OBJECT, json_object_problem, validate_metadata, validate_title
from imagesets.inputs import validate_new_status
from imagesets.models import Image, ImageSet, ImageSetJob


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class JsonObjectOrNullField(serializers.JSONField):
    default_error_messages = {"not_object": "Must be a JSON object or null."}

    def to_internal_value(self, data):
        if json_object_problem(data) == NOT_AN_OBJECT:  # the rest is validate_metadata's, after every field's type
            self.fail("not_object")
        return data


@extend_schema_field({"type": "string", "enum": [ImageSet.Status.FINISHED]})
class ImageSetNewStatusField(StrictStringField):
    """Any string is read (``validate_new_status``: 400 for an unknown status); ``finished`` is the one target."""


class ImageSetCreateInputSerializer(serializers.Serializer):
    title = TitleField(
        help_text="1-53 lowercase letters, digits and single dashes, not starting or ending with a dash; "
        "unique among image sets. It names the storage folder."
    )
    metadata = JsonObjectOrNullField(
        allow_null=True, default=None, help_text="Free-form JSON object kept with the set (optional)."
    )

    def validate(self, attrs) -> dict:
        # The title (422), then what metadata may not hold (400); the service checks them again for the admin.
        return {"title": validate_title(attrs["title"]), "metadata": validate_metadata(attrs["metadata"])}


class ImageSetStatusInputSerializer(serializers.Serializer):
    new_status = ImageSetNewStatusField(help_text="`finished`: the only transition (from `created`).")

    def validate(self, attrs) -> dict:
        return {"new_status": validate_new_status(attrs["new_status"])}


class ImageRefInputSerializer(serializers.Serializer):
    """An existing image: `{"id": 42}` or `{"filepath": "<blobstorage_path>"}`."""

    # Documents the body only: ``imagesets.inputs.parse_image_refs`` parses it (fast for 10,000 items).

    # No range: an integer that names no image is the contract's 404 (the service's).
    id = StrictIntegerField(required=False, help_text="An image id; or give `filepath`.")
    filepath = serializers.CharField(
        required=False, min_length=1, help_text="An image's `blobstorage_path`; or give `id`."
    )

    class Meta:
        ref_name = "ImageRef"


class ImageRefInputSchema(OpenApiSerializerExtension):
    """Exactly one of ``id`` and ``filepath``: a field list cannot say it, ``oneOf`` can."""

    target_class = ImageRefInputSerializer
    match_subclasses = True  # campaigns' "add images" body is the same shape under its own name

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        return {**schema, "oneOf": [{"required": ["id"]}, {"required": ["filepath"]}]}


class ImageSetJobOutputSerializer(JobSerializer):
    """The finish job of an image set: copies the uploaded files and registers the images."""

    skipped = serializers.ListField(
        child=serializers.CharField(),
        help_text="Uploaded files that are not readable images: copied, but not registered as images.",
    )
    skipped_reasons = serializers.DictField(
        child=serializers.CharField(),
        help_text="Added: why each skipped file is not an image, by file name (not an image, empty file, "
        "absurd dimensions, header unreadable within the first `IMAGESET_PROBE_MAX_BYTES`, ...).",
    )

    images_with_date = serializers.IntegerField(
        allow_null=True,
        help_text="Added: how many of the set's images have a `date_taken` (from their EXIF); null until the job "
        "is done.",
    )
    images_with_location = serializers.IntegerField(
        allow_null=True,
        help_text="Added: how many of the set's images have a `location` (from their EXIF GPS block); null until "
        "the job is done.",
    )

    class Meta:
        ref_name = "ImageSetJob"


class ImageSetOutputSerializer(serializers.ModelSerializer):
    imageset_id = serializers.IntegerField(source="id")
    blobstorage_path = serializers.CharField(
        help_text="The dropbox (`dropbox-<title>`) while created; the final folder once finished."
    )
    created_by = serializers.SerializerMethodField(help_text="E-mail of the image-admin who created it.")
    job = serializers.SerializerMethodField(help_text="The finish job: null before the set is finished.")

    class Meta:
        model = ImageSet
        fields = [
            "imageset_id",
            "title",
            "status",
            "metadata",
            "blobstorage_path",
            "date_created",
            "date_finished",
            "created_by",
            "job",
        ]
        read_only_fields = fields  # an answer only: every field is always present
        ref_name = "ImageSet"  # the published OpenAPI component name

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.email if obj.created_by_id else None

    @extend_schema_field(ImageSetJobOutputSerializer(allow_null=True))
    def get_job(self, obj) -> dict | None:
        try:
            job = obj.job
        except ImageSetJob.DoesNotExist:
            return None
        return job_representation(job)


class ImageSetCreatedOutputSerializer(ImageSetOutputSerializer):
    """The answer to `POST /image_sets`: the new set plus the URL its files are uploaded to."""

    dropbox_url = serializers.SerializerMethodField(
        help_text="Upload each file as `PUT <path>/<filename>?<query>` of this URL until the set is finished."
    )

    class Meta(ImageSetOutputSerializer.Meta):
        fields = [*ImageSetOutputSerializer.Meta.fields, "dropbox_url"]
        read_only_fields = fields
        ref_name = "ImageSetCreated"

    def get_dropbox_url(self, obj) -> str:
        return self.context["dropbox_url"]


class ImageSetUploadUrlOutputSerializer(serializers.Serializer):
    """The answer to `POST /image_sets/{id}/upload_url`: a fresh URL of the set's dropbox."""

    imageset_id = serializers.IntegerField()
    dropbox_url = serializers.CharField(
        help_text="Upload each file as `PUT <path>/<filename>?<query>` of this URL until the set is finished; "
        "valid `IMAGESET_UPLOAD_TOKEN_VALID_DAYS` days (default 7)."
    )

    class Meta:
        ref_name = "ImageSetUploadUrl"


class ImageSetRefOutputSerializer(serializers.Serializer):
    imageset_id = serializers.IntegerField()
    title = serializers.CharField()

    class Meta:
        ref_name = "ImageSetRef"


class ImageLocationOutputSerializer(serializers.Serializer):
    description = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)

    class Meta:
        ref_name = "ImageLocation"


class ImageDimensionsOutputSerializer(serializers.Serializer):
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "ImageDimensions"


class ImageFileOutputSerializer(serializers.Serializer):
    filetype = serializers.CharField(allow_null=True, help_text="PNG, JPEG, ...; null when unknown.")
    filesize = serializers.IntegerField(allow_null=True, help_text="Bytes.")
    dimensions = ImageDimensionsOutputSerializer(help_text="Pixels; null when unknown.")

    class Meta:
        ref_name = "ImageFile"


class ImageOutputSerializer(serializers.ModelSerializer):
    image_id = serializers.IntegerField(source="id")
    blobstorage_path = serializers.CharField(help_text="`<container>/<folder>/<image set title>/<file name>`.")
    imageset = serializers.SerializerMethodField(help_text="The set holding the image; null for none.")
    date_taken = serializers.DateTimeField(
        allow_null=True,
        help_text="When the photo was taken: the file's EXIF `DateTimeOriginal`, read when its set is finished, "
        "or set by staff. With the file's `OffsetTimeOriginal` it is the exact instant in UTC; without one it is "
        "the camera's own clock reading (local time, zone unknown) given with a `Z`. null when unknown.",
    )
    location = serializers.SerializerMethodField(
        help_text="`lat`/`lon`: decimal degrees (south and west negative) from the file's EXIF GPS block, or set "
        "by staff; null when unknown."
    )
    orientation = serializers.IntegerField(
        allow_null=True,
        help_text="Added. The EXIF orientation, 1-8 (6: shown turned 90° clockwise); null when the file has none "
        "(shown as stored). `file.dimensions` and every bounding box stay in the file's own pixel frame.",
    )
    display_dimensions = serializers.SerializerMethodField(
        help_text="Added. The size as shown (browsers apply the orientation): `file.dimensions` with width and "
        "height swapped for orientations 5-8."
    )
    file = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "image_id",
            "blobstorage_path",
            "imageset",
            "date_taken",
            "location",
            "type",
            "metadata",
            "tss_id",
            "file",
            "orientation",
            "display_dimensions",
        ]
        read_only_fields = fields  # an answer only: every field is always present
        ref_name = "Image"

    @extend_schema_field(ImageSetRefOutputSerializer(allow_null=True))
    def get_imageset(self, obj) -> dict | None:
        if obj.imageset_id is None:
            return None
        return {"imageset_id": obj.imageset_id, "title": obj.imageset.title}

    @extend_schema_field(ImageLocationOutputSerializer)
    def get_location(self, obj) -> dict:
        return {"description": obj.location_description, "lat": obj.lat, "lon": obj.lon}

    @extend_schema_field(ImageDimensionsOutputSerializer)
    def get_display_dimensions(self, obj) -> dict:
        width, height = obj.display_size
        return {"width": width, "height": height}

    @extend_schema_field(ImageFileOutputSerializer)
    def get_file(self, obj) -> dict:
        return {
            "filetype": obj.filetype or None,
            "filesize": obj.filesize,
            "dimensions": {"width": obj.width, "height": obj.height},
        }
