"""Pre-annotations: ``PUT /campaigns/{id}/predictions`` (admin) and
``GET /campaigns/{id}/images/{image_id}/objects`` (admin or the campaign's labeler)."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsImageAdmin
from campaigns import openapi, predictions, services
from campaigns.apis.common import api_key_of
from campaigns.permissions import IsImageAdminOrCampaignLabeler
from campaigns.serializers import ObjectOutputSerializer
from core.serializers import format_datetime

_object = ObjectOutputSerializer()


def _representation(campaign_image, predicted: list, current: list) -> dict:
    first = predicted[0].submission if predicted else None
    submission = campaign_image.current_submission_id
    return {
        "image_id": campaign_image.image_id,
        "campaign_id": campaign_image.campaign_id,
        "labeled": campaign_image.labeled,
        "predictions": {
            "model": {"name": first.model_name, "version": first.model_version or None} if first else None,
            "date_created": format_datetime(first.date_created) if first else None,
            "objects": [_object.to_representation(box) for box in predicted],
        },
        "submission": None
        if submission is None
        else {
            "submission_id": submission,
            "date_created": format_datetime(
                current[0].submission.date_created if current else campaign_image.date_labeled
            ),
            "objects": [_object.to_representation(box) for box in current],
        },
    }


class CampaignPredictionsApi(APIView):
    """``PUT /campaigns/{id}/predictions``: staff load a model's boxes."""

    permission_classes = [IsImageAdmin]

    @openapi.CAMPAIGNS_PREDICTIONS_REPLACE
    def put(self, request, campaign_id: int):
        new = predictions.parse_predictions(request.data)
        services.predictions_replace(
            campaign_id=campaign_id,
            model_name=new.model_name,
            model_version=new.model_version,
            objects_by_image=new.objects_by_image,
            user=request.user,
            api_key=api_key_of(request),
        )
        return Response("ok")


class CampaignImagePredictionsApi(APIView):
    """``GET /campaigns/{id}/images/{image_id}/objects``: one image's predictions beside the agency's submission."""

    permission_classes = [IsImageAdminOrCampaignLabeler]

    @openapi.CAMPAIGNS_IMAGE_OBJECTS_RETRIEVE
    def get(self, request, campaign_id: int, image_id: int):
        campaign_image, predicted, current = predictions.image_predictions_get(
            campaign_id=campaign_id, image_id=image_id
        )
        return Response(_representation(campaign_image, predicted, current))
