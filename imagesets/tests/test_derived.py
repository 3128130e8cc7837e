"""Derived copies: how they are made (sizes, orientation, transparency, damaged files) and kept in storage."""

from __future__ import annotations

import threading
import time
from io import BytesIO

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from PIL import Image as PILImage

from imagesets.derived import (
    DISPLAY,
    THUMBNAIL,
    Unrenderable,
    derived_path,
    image_derived_ensure,
    render_derived,
)
from imagesets.derived import services as derived_services
from imagesets.derived.kinds import DERIVED_FOLDER
from imagesets.models import Image
from imagesets.orientation import display_size, to_display
from imagesets.probe import HEADER_BYTES
from imagesets.tests import photos
from imagesets.tests.conftest import finish_and_run, new_imageset
from imagesets.tests.factories import ImageFactory
from integrations.storage import ObjectNotFound

RED, BLUE = (230, 20, 20), (20, 20, 230)


def encode(im: PILImage.Image, fmt: str = "PNG", **options) -> bytes:
    out = BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def render(data: bytes, *, side: int = 160, orientation: int | None = None, quality: int = 80) -> PILImage.Image:
    jpeg = render_derived(BytesIO(data), longest_side=side, orientation=orientation, quality=quality)
    im = PILImage.open(BytesIO(jpeg))
    assert im.format == "JPEG"
    return im


def close_to(pixel, colour, tolerance=60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


# --- making a copy --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "side", "expected"),
    [
        ((4000, 3000), 160, (160, 120)),
        ((3000, 4000), 160, (120, 160)),
        ((2400, 1600), 2048, (2048, 1365)),
        ((100, 50), 160, (100, 50)),  # never enlarged
    ],
)
def test_a_copy_fits_its_longest_side_and_keeps_the_aspect_ratio(size, side, expected):
    for fmt in ("JPEG", "PNG"):
        im = render(encode(PILImage.new("RGB", size, (90, 140, 30)), fmt), side=side)
        assert im.size == expected, fmt
        assert close_to(im.getpixel((im.width // 2, im.height // 2)), (90, 140, 30), tolerance=8)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_copy_is_turned_upright_as_a_browser_shows_the_original(orientation):
    """A mark at a point of the file's frame lands where ``imagesets.orientation`` maps it (the review's boxes)."""
    width, height = 60, 40
    file = PILImage.new("RGB", (width, height), (255, 255, 255))
    file.paste(RED, (0, 0, 12, 12))  # the file's top-left corner
    file.paste(BLUE, (48, 28, 60, 40))  # its bottom-right corner

    im = render(encode(file), side=60, orientation=orientation)

    assert im.size == display_size(width, height, orientation)
    for point, colour in (((6, 6), RED), ((54, 34), BLUE)):
        x, y = to_display(*point, width, height, orientation)
        assert close_to(im.getpixel((int(x), int(y))), colour), (orientation, point)


def test_the_rows_orientation_wins_and_the_files_own_tag_is_the_fallback():
    exif = PILImage.Exif()
    exif[0x0112] = 6
    data = encode(PILImage.new("RGB", (80, 40), (0, 0, 0)), "JPEG", exif=exif.tobytes())

    assert render(data, orientation=None).size == (40, 80)  # unknown on the row: the file's tag
    assert render(data, orientation=1).size == (80, 40)  # what the row says (what the boxes are mapped with)


def test_a_camera_jpeg_becomes_a_small_upright_thumbnail_and_display_copy():
    data = photos.camera_files()["phone-upright.jpg"]  # 3264×2448, EXIF orientation 6, about 3 MB

    thumbnail = render_derived(BytesIO(data), longest_side=160, orientation=6, quality=THUMBNAIL.quality)
    display = render_derived(BytesIO(data), longest_side=2048, orientation=6, quality=DISPLAY.quality)

    assert PILImage.open(BytesIO(thumbnail)).size == (120, 160)
    assert len(thumbnail) < 20_000
    shown = PILImage.open(BytesIO(display))
    assert shown.size == (1536, 2048)
    assert len(display) < len(data) / 2
    assert not shown.getexif()  # no orientation left for a browser to apply twice


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda: PILImage.new("RGBA", (30, 20), (10, 200, 10, 0)), id="RGBA"),
        pytest.param(lambda: PILImage.new("LA", (30, 20), (10, 0)), id="LA"),
        pytest.param(
            lambda: PILImage.new("RGBA", (30, 20), (10, 200, 10, 0)).convert("P"),
            id="palette",
        ),
    ],
)
def test_transparent_pixels_are_flattened_onto_white(source):
    im = source()
    data = encode(im, "PNG", **({"transparency": im.getpixel((0, 0))} if im.mode == "P" else {}))

    out = render(data).convert("RGB")

    assert close_to(out.getpixel((15, 10)), (255, 255, 255), tolerance=4)


def test_half_transparent_pixels_are_blended_onto_white():
    im = render(encode(PILImage.new("RGBA", (30, 20), (0, 0, 0, 128))))
    assert close_to(im.convert("RGB").getpixel((15, 10)), (127, 127, 127), tolerance=6)


def test_sixteen_bit_grey_is_scaled_to_eight_bits_not_clipped():
    im = PILImage.new("I;16", (20, 20), 32768)
    out = render(encode(im, "PNG"))
    assert abs(out.convert("L").getpixel((10, 10)) - 128) <= 3


def test_a_cmyk_jpeg_becomes_an_rgb_copy():
    data = encode(PILImage.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")
    im = render(data)
    assert im.mode == "RGB"
    assert close_to(im.getpixel((20, 15)), (255, 0, 0), tolerance=40)


def test_a_colour_profile_stays_with_unconverted_pixels():
    profile = b"\0" * 500 + b"not checked by Pillow"
    data = encode(PILImage.new("RGB", (40, 30), (1, 2, 3)), "JPEG", icc_profile=profile)
    assert render(data).info.get("icc_profile") == profile


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not an image at all" * 100, id="text"),
        pytest.param(encode(PILImage.new("RGB", (400, 300), (1, 2, 3)), "PNG")[:300], id="truncated png"),
        pytest.param(photos.encode(photos.photo(400, 300), "JPEG")[:2000], id="truncated jpeg"),
    ],
)
def test_a_file_pillow_cannot_decode_is_unrenderable(data):
    with pytest.raises(Unrenderable):
        render_derived(BytesIO(data), longest_side=160, orientation=None, quality=75)


def test_nothing_is_decoded_past_the_pixel_limit_but_a_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 3_000_000)  # a 2000×2000 file is past it, not twice past
    png = encode(PILImage.new("RGB", (2000, 2000), (9, 9, 9)), "PNG")
    jpeg = encode(PILImage.new("RGB", (2000, 2000), (9, 9, 9)), "JPEG")

    with pytest.warns(PILImage.DecompressionBombWarning), pytest.raises(Unrenderable, match="MAX_IMAGE_PIXELS"):
        render_derived(BytesIO(png), longest_side=160, orientation=None, quality=75)
    # Draft mode decodes the JPEG at 1/8 (250×250): within the limit.
    with pytest.warns(PILImage.DecompressionBombWarning):
        assert render(jpeg).size == (160, 160)
    # Twice past the limit, Pillow refuses the header itself.
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1_000_000)
    with pytest.raises(Unrenderable, match="DecompressionBomb"):
        render_derived(BytesIO(jpeg), longest_side=160, orientation=None, quality=75)


# --- keeping it in storage ----------------------------------------------------------------------------------


class CountedWrites:
    def __init__(self, storage, monkeypatch):
        self.paths: list[str] = []
        self._lock = threading.Lock()
        write = storage.write

        def counted(path, chunks, **kwargs):
            with self._lock:
                self.paths.append(path)
            return write(path, chunks, **kwargs)

        monkeypatch.setattr(storage, "write", counted)


def image_path(name: str) -> str:
    return f"{django_settings.AZURE_STORAGE_IMAGESET_CONTAINER}/uploads/a-set/{name}"


def stored_image(storage, name: str = "camera.jpg", *, as_name: str | None = None, **fields):
    """An image row and its file: one of ``photos.camera_files()``, stored as ``as_name`` if given."""
    image = ImageFactory(blobstorage_path=image_path(as_name or name), **fields)
    storage.write(image.blobstorage_path, [photos.camera_files()[name]])
    return image


@pytest.mark.django_db
def test_a_copy_is_made_on_first_request_and_then_read_from_storage(any_storage, monkeypatch):
    image = stored_image(any_storage, width=4000, height=3000)
    writes = CountedWrites(any_storage, monkeypatch)

    first = image_derived_ensure(image=image, kind=THUMBNAIL)
    again = image_derived_ensure(image=image, kind=THUMBNAIL)
    display = image_derived_ensure(image=image, kind=DISPLAY)

    container = django_settings.AZURE_STORAGE_IMAGESET_CONTAINER
    assert first == again
    assert first.startswith(f"{container}/{DERIVED_FOLDER}/thumbnail-160/{image.pk}-")
    assert display.startswith(f"{container}/{DERIVED_FOLDER}/display-2048/{image.pk}-")
    assert writes.paths == [first, display]
    with any_storage.open(first) as stored:
        thumbnail = stored.read()
    assert PILImage.open(BytesIO(thumbnail)).size == (160, 120)
    assert len(thumbnail) < 20_000


@pytest.mark.django_db
def test_a_copy_belongs_to_one_file_and_one_size(settings):
    image = ImageFactory()
    path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    other_file = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path + "x", kind=THUMBNAIL)
    settings.IMAGE_THUMBNAIL_SIZE = 200
    other_size = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    assert len({path, other_file, other_size}) == 3


def test_the_derived_folder_can_be_no_image_sets_folder():
    from core.exceptions import InvalidName
    from core.validators import validate_title

    with pytest.raises(InvalidName):
        validate_title(DERIVED_FOLDER)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_missing_copy_make_it_once(any_storage, monkeypatch):
    image = stored_image(any_storage, "drone.jpg")
    writes = CountedWrites(any_storage, monkeypatch)
    real_render = derived_services.render_derived

    def slow_render(*args, **kwargs):
        time.sleep(0.3)  # long enough for every thread to be waiting for it
        return real_render(*args, **kwargs)

    monkeypatch.setattr(derived_services, "render_derived", slow_render)
    results: list[str] = []

    def request():
        results.append(image_derived_ensure(image=image, kind=THUMBNAIL))

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(results) == 6 and len(set(results)) == 1
    assert writes.paths == results[:1]


@pytest.mark.django_db(transaction=True)
def test_a_process_makes_at_most_image_derived_workers_copies_at_once(local_storage, monkeypatch, settings):
    settings.IMAGE_DERIVED_WORKERS = 2
    images = [stored_image(local_storage, "screenshot.png", as_name=f"{n}.png") for n in range(5)]
    inside, most, release = 0, 0, threading.Event()
    lock = threading.Lock()

    def counting_render(*args, **kwargs):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        release.wait(10)
        with lock:
            inside -= 1
        return encode(PILImage.new("RGB", (8, 8)), "JPEG")

    monkeypatch.setattr(derived_services, "render_derived", counting_render)
    threads = [threading.Thread(target=image_derived_ensure, kwargs={"image": i, "kind": THUMBNAIL}) for i in images]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while most < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a third would have started by now
    assert (inside, most) == (2, 2)
    release.set()
    for thread in threads:
        thread.join(30)
    assert most == 2
    for image in images:
        path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
        assert local_storage.exists(path)


@pytest.mark.django_db
def test_a_missing_original_makes_no_copy(any_storage, monkeypatch):
    image = ImageFactory(blobstorage_path=image_path("gone.jpg"))
    writes = CountedWrites(any_storage, monkeypatch)

    with pytest.raises(ObjectNotFound):
        image_derived_ensure(image=image, kind=THUMBNAIL)
    assert writes.paths == []


@pytest.mark.django_db
def test_an_undecodable_original_makes_no_copy(any_storage, monkeypatch):
    image = ImageFactory(blobstorage_path=image_path("broken.jpg"))
    any_storage.write(image.blobstorage_path, [b"\xff\xd8\xff\xe0 not really a jpeg" * 50])
    writes = CountedWrites(any_storage, monkeypatch)

    with pytest.raises(Unrenderable):
        image_derived_ensure(image=image, kind=THUMBNAIL)
    assert writes.paths == []


class CountedRenders:
    def __init__(self, monkeypatch):
        self.count = 0
        real = derived_services.render_derived

        def counted(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(derived_services, "render_derived", counted)


@pytest.mark.django_db
def test_a_copy_another_process_is_making_is_waited_for_not_made_twice(any_storage, monkeypatch):
    image = stored_image(any_storage, "drone.jpg")
    path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    assert cache.add(derived_services.claim_key(path), 1)  # another process claimed it
    renders = CountedRenders(monkeypatch)
    other = threading.Timer(0.5, lambda: any_storage.write(path, [encode(PILImage.new("RGB", (4, 3)), "JPEG")]))
    other.start()

    assert image_derived_ensure(image=image, kind=THUMBNAIL) == path

    other.join()
    assert renders.count == 0
    with any_storage.open(path) as stored:
        assert PILImage.open(stored).size == (4, 3)  # the other process's copy


@pytest.mark.django_db
def test_a_claim_nobody_fulfils_is_waited_out_and_the_copy_made_here(local_storage, monkeypatch):
    image = stored_image(local_storage, "drone.jpg")
    path = derived_path(image_id=image.pk, blobstorage_path=image.blobstorage_path, kind=THUMBNAIL)
    monkeypatch.setattr(derived_services, "WAIT_SECONDS", 0.5)
    cache.add(derived_services.claim_key(path), 1, timeout=60)  # its process died while making it
    renders = CountedRenders(monkeypatch)

    assert image_derived_ensure(image=image, kind=THUMBNAIL) == path

    assert renders.count == 1 and local_storage.exists(path)


@pytest.mark.django_db
def test_a_copy_is_made_when_the_cache_does_not_answer(local_storage, monkeypatch):
    image = stored_image(local_storage, "drone.jpg")

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(type(caches["default"]), "add", broken)

    path = image_derived_ensure(image=image, kind=THUMBNAIL)

    assert local_storage.exists(path)


@pytest.mark.django_db
def test_the_finish_job_reads_64_kib_per_image_and_only_a_copys_first_request_reads_the_whole_file(
    any_storage, storage_spy, admin_user, django_capture_on_commit_callbacks
):
    files = {name: photos.camera_files()[name] for name in ("drone.jpg", "screenshot.png")}
    imageset = new_imageset(admin_user, files=files, storage=any_storage)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    images = list(Image.objects.filter(imageset=imageset))
    assert len(images) == 2
    assert all(storage_spy.bytes_read[image.blobstorage_path] <= HEADER_BYTES for image in images)
    assert not storage_spy.full_reads  # no copy is made while finishing
    image = images[0]
    image_derived_ensure(image=image, kind=THUMBNAIL)
    image_derived_ensure(image=image, kind=THUMBNAIL)
    assert storage_spy.full_reads == {image.blobstorage_path: 1}
