import factory

from imagesets.models import Image, ImageSet


class ImageSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImageSet

    title = factory.Sequence(lambda n: f"imageset-{n}")
    blobstorage_path = factory.LazyAttribute(lambda o: f"dropbox-{o.title}")


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    imageset = factory.SubFactory(ImageSetFactory, status=ImageSet.Status.FINISHED)
    blobstorage_path = factory.Sequence(lambda n: f"images/uploads/set/image-{n}.png")
    filetype = "PNG"
    content_type = "image/png"
    filesize = 4486
    width = 200
    height = 200
