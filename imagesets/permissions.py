"""Who may read an image: image-admins, and labelers a registered reader lets in (``imagesets.hooks``)."""

from accounts.permissions import ImageAdminOrLabeler
from imagesets.hooks import image_readable_by_labeler


class IsImageAdminOrImageLabeler(ImageAdminOrLabeler):
    """The image id comes from ``view.kwargs[view.image_url_kwarg]`` (default ``"image_id"``).

    A labeler asking for an image it may not read (or one that does not
    exist) is refused the same way, so ids of other campaigns leak nothing.
    The campaigns app registers the reader that knows a labeler's campaigns.
    """

    def labeler_allowed(self, user, view) -> bool:
        image_id = view.kwargs.get(getattr(view, "image_url_kwarg", "image_id"))
        return image_id is not None and image_readable_by_labeler(user=user, image_id=int(image_id))
