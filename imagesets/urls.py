from django.urls import path

from imagesets import apis

# No trailing slashes: the paths are the contract's, exactly.
urlpatterns = [
    path("image_sets", apis.ImageSetListCreateApi.as_view(), name="imageset-list"),
    path("image_sets/<int:imageset_id>", apis.ImageSetDetailApi.as_view(), name="imageset-detail"),
    path("image_sets/<int:imageset_id>/upload_url", apis.ImageSetUploadUrlApi.as_view(), name="imageset-upload-url"),
    path("image_sets/<int:imageset_id>/images", apis.ImageSetImagesApi.as_view(), name="imageset-images"),
    path("images", apis.ImageListApi.as_view(), name="image-list"),
    path("images/<int:image_id>", apis.ImageDetailApi.as_view(), name="image-detail"),
    path("dropbox/<str:token>/<path:filename>", apis.DropboxUploadApi.as_view(), name="dropbox-upload"),
]
