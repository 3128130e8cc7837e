"""Python client of the labelhub API: image sets, labeling campaigns, submissions and exports.

from labelhub_client import Client

with Client.from_env() as client:  # LABELHUB_URL, LABELHUB_KEY, LABELHUB_SECRET or the config file
    for image in client.campaign_images(3, state="unlabeled"):
        client.download_image(image.image_id, f"{image.image_id}.jpg")
"""

from .client import Client, __version__
from .config import Config
from .errors import (
    ApiError,
    BadRequest,
    ConfigError,
    Conflict,
    LabelhubError,
    NotFound,
    PayloadTooLarge,
    ServerError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    Unprocessable,
    WaitTimeout,
    WebhookVerificationError,
)
from .models import (
    AccessToken,
    BoundingBox,
    Campaign,
    CampaignImage,
    CreatedCampaign,
    CreatedImageSet,
    Export,
    ExportFile,
    FailedChunk,
    Image,
    ImageSet,
    ImageSetJob,
    Job,
    Label,
    NewObject,
    Progress,
    Review,
    SubmitReport,
)
from .webhooks import verify_webhook

__all__ = [
    "AccessToken",
    "ApiError",
    "BadRequest",
    "BoundingBox",
    "Campaign",
    "CampaignImage",
    "Client",
    "Config",
    "ConfigError",
    "Conflict",
    "CreatedCampaign",
    "CreatedImageSet",
    "Export",
    "ExportFile",
    "FailedChunk",
    "Image",
    "ImageSet",
    "ImageSetJob",
    "Job",
    "Label",
    "LabelhubError",
    "NewObject",
    "NotFound",
    "PayloadTooLarge",
    "Progress",
    "Review",
    "ServerError",
    "SubmitReport",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "Unprocessable",
    "WaitTimeout",
    "WebhookVerificationError",
    "__version__",
    "verify_webhook",
]
