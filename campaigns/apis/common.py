"""What the campaign endpoints share: the key of a request, the image-page base."""

from __future__ import annotations

from rest_framework.generics import ListAPIView

from accounts.models import ApiKey
from accounts.permissions import IsImageAdmin
from campaigns.permissions import IsImageAdminOrCampaignLabeler


def api_key_of(request) -> ApiKey | None:
    """The API key that authenticated the request (``None`` for a session)."""
    return request.auth if isinstance(request.auth, ApiKey) else None


class CampaignImagePagesApi(ListAPIView):
    """A campaign's images, 1000 a page (key ``images``); ``labeler_method`` is open to its labeler too."""

    items_key = "images"
    default_per_page = 1000
    labeler_method = "GET"

    def get_permissions(self):
        if self.request.method == self.labeler_method:
            return [IsImageAdminOrCampaignLabeler()]
        return [IsImageAdmin()]
