"""The OpenAPI document of ``/api/v1``, assembled: key scheme, description, tags, links.

drf-spectacular builds the document from the views' ``extend_schema``
annotations (the error body and the responses they share are in
``core.openapi``); this module adds what only the whole document knows:

- ``ApiKeyScheme`` declares the two headers of ``ApiKeyAuthentication`` as two
  ``apiKey`` schemes required together (one security requirement holding
  both), so Swagger UI's "Authorize" asks for key and secret and sends both.
- ``AutoSchema`` names the item list of a paginated answer after the view's
  ``items_key`` (``image_sets``, ``images``, ``campaigns``).
- ``postprocess_schema`` adds the description, the tags and the links
  (create -> read) that clients and schemathesis' stateful tests follow.
"""

from __future__ import annotations

import copy
from http import HTTPStatus

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from accounts.authentication import KEY_HEADER, SECRET_HEADER
from core.openapi import ERROR_DESCRIPTIONS, JSON_BODY_TOO_LARGE

KEY_SCHEME = "AuthenticationKey"
SECRET_SCHEME = "AuthenticationSecret"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """``Authentication-Key`` and ``Authentication-Secret``: two header schemes, one requirement."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = [KEY_SCHEME, SECRET_SCHEME]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": KEY_HEADER,
                "description": f"The API key: 32 hex characters. Always sent together with `{SECRET_HEADER}`.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": SECRET_HEADER,
                "description": "The secret shown once when the key was issued. Always sent "
                f"together with `{KEY_HEADER}`.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        # One requirement object naming both schemes: both headers are needed (AND).
        return {KEY_SCHEME: [], SECRET_SCHEME: []}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema; paginated answers use the view's ``items_key``."""

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.items_key = getattr(self.view, "items_key", "items")
        return paginator


# --- the document: description, tags, links -------------------------------------------

API_DESCRIPTION = """\
The labelhub API: image sets are uploaded, images are put into labeling campaigns, a labeling
agency draws the objects it finds, and a finished campaign is exported (labels CSV, Azure ML).

## Authentication

Every request carries two headers:

    Authentication-Key: <apikey>
    Authentication-Secret: <apisecret>

In this page: press **Authorize**, fill in both fields, press **Authorize** in each, then
**Try it out** on any operation. A missing or wrong key, or an operation the key's role may not
use, is answered `401`. Failed authentications are counted per client address and per key id:
past the limit (`API_AUTH_FAILURES_PER_ADDRESS`, `API_AUTH_FAILURES_PER_KEY`) every request from
that address or naming that key is answered `429` with `Retry-After`, the right secret too, until
the window ends. Requests that authenticate are never counted.

Two roles:

- **image-admin**: every operation.
- **labeler** (an agency): the key handed out when a campaign was created for it. It may list the
  images of its own campaigns (`GET /campaigns/{pk}/images`), fetch each image
  (`GET /images/{image_id}`) and submit the objects it found (`PUT /campaigns/{pk}/objects`).
  Everything else is `401`.

## The labeling flow of an agency

1. `GET /campaigns/{pk}/images` lists the campaign's images, 1000 per page:
   `{"image_id": 1, "url": "/images/1"}`.
2. `GET /images/{image_id}` answers `303 See Other`; the `Location` header is a short-lived URL
   of the image file itself (follow it without the key headers).
3. `PUT /campaigns/{pk}/objects` with `[{"image_id": 1, "objects": [{"label": "Plastic",
   "confidence": 0.9, "bounding_box": {"xmin": 26, "xmax": 98, "ymin": 12, "ymax": 54}}]}]`
   stores the objects of the listed images (replacing what was stored for them before). An empty
   `objects` list means "looked at, nothing found". Coordinates are pixels, integers from the top
   left corner, `xmin <= xmax`, `ymin <= ymax`, inside the image. When every image of the campaign
   is labeled the campaign becomes `completed`.

## The image-admin flow

`POST /image_sets` -> upload every file with a plain `PUT <dropbox_url path>/<filename>?<query>`
(raw bytes as body; on Azure also `x-ms-blob-type: BlockBlob`) -> `PUT /image_sets/{imageset_id}`
`{"new_status": "finished"}` -> poll `GET /image_sets/{imageset_id}` until `job.status` is
`succeeded` -> `POST /campaigns` (hand the returned `access_token` to the agency) ->
`POST /campaigns/{pk}/images` -> `PUT /campaigns/{pk}` `{"new_status": "active"}` -> the agency
labels -> `PUT /campaigns/{pk}` `{"new_status": "finished"}` -> the export job writes the labels
CSV (also at `GET /campaigns/{pk}/labels.csv` at any time).

## Conventions

- Bodies are JSON; timestamps ISO 8601 in UTC (`2020-10-26T07:44:56.562150Z`).
- Lists take `page` (from 1) and `per_page` (a larger value than 1000 is answered with 1000) and
  answer `{"pagination": {"page", "pages", "total", "per_page", "next", "prev"}, "<items>": [...]}`;
  a page past the end is an empty list.
- A query parameter given empty (`?page=`) is the same as one left out; one given twice
  (`?page=1&page=2`) is a `400`, unless it is a list (`?campaigns=3&campaigns=5`).
- Titles of image sets and campaigns: 1-53 lowercase letters, digits and single dashes, not
  starting or ending with a dash (`422` otherwise; a title in use: `409`).
- Errors: `{"detail": "<reason>", "status": <code>}`; `400` malformed body, `401` key or role,
  `404` unknown object, `409` not allowed in the current status, `413` too large, `422` invalid
  value.
- Input limits (configurable, defaults here): a JSON body of at most 10 MiB (`413`), nested at most
  32 levels, holding only valid Unicode (`400`); ids are JSON integers (`"1"` and `1.0` are a `400`);
  at most 10,000 images per request (`413`) and 1,000 objects per image (`422`).
"""

TAGS = [
    {"name": "image sets", "description": "Upload images as a set: create, upload to the dropbox, finish."},
    {"name": "images", "description": "Images and where to read them; the objects labeled on one."},
    {"name": "campaigns", "description": "Labeling campaigns: images, status, the agency's objects, export."},
    {
        "name": "webhooks",
        "description": "Signed notifications of what happens to image sets, campaigns and exports (docs/webhooks.md).",
    },
    {
        "name": "files",
        "description": "Signed URLs of the local storage backend (no key: the URL is the credential). "
        "With Azure storage these URLs point to Azure Blob Storage instead.",
    },
]


def _link(operation_id: str, description: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "parameters": parameters, "description": description}


# operationId of a response -> its links. Parameter values are OpenAPI runtime expressions.
LINKS = {
    ("image_sets_create", "200"): {
        "GetImageSet": _link("image_sets_retrieve", "The new image set", imageset_id="$response.body#/imageset_id"),
        "FinishImageSet": _link(
            "image_sets_set_status", "Finish it once the files are uploaded", imageset_id="$response.body#/imageset_id"
        ),
        "ListImageSetImages": _link("image_sets_images_list", "Its images", imageset_id="$response.body#/imageset_id"),
        "AddImageSetImages": _link(
            "image_sets_images_add", "Add existing images to it", imageset_id="$response.body#/imageset_id"
        ),
    },
    ("campaigns_create", "200"): {
        "GetCampaign": _link("campaigns_retrieve", "The new campaign", campaign_id="$response.body#/campaign_id"),
        "SetCampaignStatus": _link("campaigns_set_status", "Activate it", campaign_id="$response.body#/campaign_id"),
        "AddCampaignImages": _link("campaigns_images_add", "Add its images", campaign_id="$response.body#/campaign_id"),
        "ListCampaignImages": _link("campaigns_images_list", "Its images", campaign_id="$response.body#/campaign_id"),
        "ListCampaignObjects": _link(
            "campaigns_objects_list", "Its objects", campaign_id="$response.body#/campaign_id"
        ),
        "ReplaceCampaignObjects": _link(
            "campaigns_objects_replace", "Submit objects", campaign_id="$response.body#/campaign_id"
        ),
        "GetCampaignLabelsCsv": _link(
            "campaigns_labels_csv", "Its labels CSV", campaign_id="$response.body#/campaign_id"
        ),
    },
    ("images_list", "200"): {
        "GetFirstImage": _link("images_retrieve", "Read the first image", image_id="$response.body#/images/0/image_id"),
        "GetFirstImageObjects": _link(
            "images_objects_list", "Objects of the first image", image_id="$response.body#/images/0/image_id"
        ),
    },
    ("campaigns_images_list", "200"): {
        "GetFirstCampaignImage": _link(
            "images_retrieve", "Read the first image", image_id="$response.body#/images/0/image_id"
        ),
    },
}


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# Answered by the web server before any view runs, on every operation.
URI_TOO_LONG = {
    "description": "The request line (path and query string) is longer than the web server reads "
    "(gunicorn's `limit_request_line`, 4094 bytes by default). The server answers before labelhub does, "
    "with an HTML page.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


# Request objects whose parser refuses unknown fields: the schema says so, or a fuzz sends extras.
CLOSED_OBJECTS = ("CampaignLabel",)

# Answered by the API-key authentication (accounts.throttling) on every operation that takes a key.
AUTH_THROTTLED = (
    "Too many failed authentications from this client address, or naming this key id, within the window "
    "(`API_AUTH_FAILURES_PER_ADDRESS`, `API_AUTH_FAILURES_PER_KEY`): refused, right secret or not, for the "
    "seconds `Retry-After` says."
)


def postprocess_schema(result, generator, request, public):
    """Add the description, tag descriptions and links; give every error answer the Error body."""
    result["info"]["description"] = API_DESCRIPTION
    result["tags"] = TAGS
    for name in CLOSED_OBJECTS:
        # campaigns.label_schema refuses a field it does not know in a label (a typo'd "colour").
        result["components"]["schemas"][name]["additionalProperties"] = False
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                # DRF's parser refuses any other Content-Type, on every body-taking operation,
                # and labelhub's JSON parser any body over the size limit.
                operation["responses"].setdefault("415", {"description": ERROR_DESCRIPTIONS[415]})
                operation["responses"].setdefault("413", {"description": JSON_BODY_TOO_LARGE})
            operation["responses"].setdefault("414", copy.deepcopy(URI_TOO_LONG))
            if "401" in operation["responses"]:
                operation["responses"].setdefault(
                    "429",
                    {
                        "description": AUTH_THROTTLED,
                        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
                    },
                )
            operation["responses"] = dict(sorted(operation["responses"].items()))
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    # core.validators.query_value reads an empty value as an absent one (so a
                    # required parameter sent empty is missing: not allowed empty).
                    parameter["allowEmptyValue"] = True
            for code, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId"), code))
                if links:
                    response["links"] = links
                if not response.get("description"):
                    response["description"] = HTTPStatus(int(code)).phrase
                if code[0] in "45":
                    # The exception handler answers every error this way, documented or not.
                    # (the Error component is registered: the views' errors() use it)
                    response.setdefault("content", copy.deepcopy(ERROR_CONTENT))
    return result
