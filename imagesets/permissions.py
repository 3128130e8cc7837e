"""Who may read an image: image-admins, and labelers whose campaign holds it."""

from rest_framework.permissions import BasePermission

from campaigns.selectors import labeler_can_read_image


class IsImageAdminOrImageLabeler(BasePermission):
    """The image id comes from ``view.kwargs[view.image_url_kwarg]`` (default ``"image_id"``).

    A labeler asking for an image outside its campaigns (or one that does not
    exist) is refused the same way, so ids of other campaigns leak nothing.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.is_staff:
            return True
        image_id = view.kwargs.get(getattr(view, "image_url_kwarg", "image_id"))
        return image_id is not None and labeler_can_read_image(user=user, image_id=int(image_id))
