"""``/campaigns`` and ``/campaigns/{id}``: list, create, read, change the status."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema, extend_schema_view

from campaigns.openapi.common import LABELER_OF_OTHER_CAMPAIGNS, NO_CAMPAIGN, campaign_operation
from campaigns.serializers import (
    CampaignCreatedOutputSerializer,
    CampaignCreateInputSerializer,
    CampaignOutputSerializer,
    CampaignStatusInputSerializer,
    LabelerCampaignOutputSerializer,
)
from core.openapi import JSON_BODY_MALFORMED, JSON_NUL_EXAMPLE, JSON_NUL_REFUSED, errors, ok

CAMPAIGNS_LIST = extend_schema_view(
    get=extend_schema(
        operation_id="campaigns_list",
        tags=["campaigns"],
        summary="List campaigns",
        description=(
            "Every campaign, 10 per page by default, by id. Image-admins get every campaign (`Campaign`).\n\n"
            "Added: a labeler's key lists the campaigns it labels, each as `GET /campaigns/{id}` shows it "
            "to the labeler (`LabelerCampaign`: `campaign_id`, `title`, `status`, `progress`, "
            "`label_translations`, `labels`; example below); none of another agency's."
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="CampaignOrLabelerCampaign",
                serializers=[CampaignOutputSerializer, LabelerCampaignOutputSerializer],
                resource_type_field_name=None,
                many=True,
            ),
            **errors(400, 401),
        },
        examples=[
            OpenApiExample(
                "As a labeler",
                response_only=True,
                value={
                    "campaign_id": 3,
                    "title": "beach-2024",
                    "status": "active",
                    "progress": {"done": 10, "total": 250},
                    "label_translations": {"PET": "Plastic"},
                    "labels": [{"name": "Plastic", "colour": "#1f77b4", "description": "Any plastic item"}],
                },
            )
        ],
    )
)

CAMPAIGNS_CREATE = extend_schema(
    operation_id="campaigns_create",
    tags=["campaigns"],
    summary="Create a campaign and its labeler's key",
    description=(
        "Creates the campaign in status `created`. The labeler is found by `labeler_email` or "
        "created, and may from now on read this campaign's images and submit its objects. "
        "`access_token` is that labeler's key: a new key and secret for a user without one; for "
        "a user who already has a key, its `apikey` and `apisecret: null` (secrets are stored "
        "hashed). Next: add images, then set the status to `active`."
    ),
    request=CampaignCreateInputSerializer,
    examples=[
        OpenApiExample(
            "With a label schema",
            request_only=True,
            value={
                "title": "beach-2024",
                "labeler_email": "agency@example.com",
                "label_translations": {"PET": "Plastic"},
                "labels": [
                    {"name": "Plastic", "colour": "#1f77b4", "description": "Any plastic item"},
                    {"name": "Glass", "colour": None, "description": None},
                ],
            },
        )
    ],
    responses={
        200: CampaignCreatedOutputSerializer,
        **errors(
            (
                400,
                "Malformed body, an invalid `labeler_email`, or `metadata`/`label_translations` "
                "that are not JSON objects of the documented shape, or `labels` not a list of "
                "`{name, colour, description}` (`label_index` names the item). "
                + JSON_NUL_REFUSED
                + " "
                + JSON_BODY_MALFORMED,
                JSON_NUL_EXAMPLE,
            ),
            401,
            (
                409,
                "A campaign with this title already exists, or `labeler_email` belongs to a staff "
                "account (staff get no key through a campaign; nothing is stored).",
            ),
            (
                422,
                "The title is not a valid name: 1-53 lowercase letters, digits and single dashes, "
                "not starting or ending with a dash. Or `labels` refused: an empty or duplicate "
                "name, a colour that is not `#rrggbb`, a description over 1000 characters, more "
                "than `LABEL_SCHEMA_MAX` (default 1000) labels.",
                {"a label listed twice": "'labels' item 1: 'Plastic' is listed more than once"},
            ),
        ),
    },
)

CAMPAIGNS_RETRIEVE = campaign_operation(
    "campaigns_retrieve",
    "Get a campaign",
    "The campaign with its status, `progress` (labeled images out of all), its label schema "
    "(`labels`) and the export `job` once finished. Image-admins get every field.\n\n"
    "Added: the campaign's labeler may read its own campaign too, and gets only what labeling needs "
    "(`LabelerCampaign`: `campaign_id`, `title`, `status`, `progress`, `label_translations` and "
    "`labels`; example below); another campaign is a 401 for it, as on its other endpoints.",
    responses={
        # Image-admins get the published ``Campaign``; the campaign's labeler ``LabelerCampaign``.
        200: PolymorphicProxySerializer(
            component_name="CampaignOrLabelerCampaign",
            serializers=[CampaignOutputSerializer, LabelerCampaignOutputSerializer],
            resource_type_field_name=None,
        ),
        **errors(LABELER_OF_OTHER_CAMPAIGNS, (404, "The campaign does not exist (image-admins).")),
    },
    examples=[
        OpenApiExample(
            "As the campaign's labeler",
            response_only=True,
            value={
                "campaign_id": 3,
                "title": "beach-2024",
                "status": "active",
                "progress": {"done": 10, "total": 250},
                "label_translations": {"PET": "Plastic"},
                "labels": [{"name": "Plastic", "colour": "#1f77b4", "description": "Any plastic item"}],
            },
        )
    ],
)

CAMPAIGNS_SET_STATUS = campaign_operation(
    "campaigns_set_status",
    "Change a campaign's status",
    (
        "Transitions: `created` -> `active` (labeling starts); `active` -> `completed` (also "
        "automatic when every image is labeled); `completed` -> `active` (reopen); `completed` -> "
        "`finished` (starts the export job: labels CSV and Azure ML data assets; follow it in "
        "the campaign's `job`; if the job broker is down the export stays `queued` and starts "
        "once it is back). Anything else is `409`.\n\n"
        "Added: `finished` again on a finished campaign retries its export when it `failed` or is "
        "stuck (its worker died, or it never reached the broker)."
    ),
    request=CampaignStatusInputSerializer,
    responses={
        200: ok("The status changed."),
        **errors(
            (400, "`new_status` is missing or not a status. " + JSON_BODY_MALFORMED),
            401,
            NO_CAMPAIGN,
            (409, "The campaign cannot go from its current status to `new_status`."),
        ),
    },
)
