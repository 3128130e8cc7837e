"""Who may read an image: image-admins, and labelers whose campaign holds it."""

from accounts.permissions import ImageAdminOrLabeler
from campaigns.selectors import labeler_can_read_image


class IsImageAdminOrImageLabeler(ImageAdminOrLabeler):
    """The image id comes from ``view.kwargs[view.image_url_kwarg]`` (default ``"image_id"``).

    A labeler asking for an image outside its campaigns (or one that does not
    exist) is refused the same way, so ids of other campaigns leak nothing.
    """

    def labeler_allowed(self, user, view) -> bool:
        image_id = view.kwargs.get(getattr(view, "image_url_kwarg", "image_id"))
        return image_id is not None and labeler_can_read_image(user=user, image_id=int(image_id))
