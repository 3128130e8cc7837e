"""The image list of 25 camera-sized images in a real browser: thumbnails, not originals, under a megabyte.

Headless Debian Chromium (Playwright) against ``live_server``, on both
storage backends. The page's weight is every response's bytes as Chromium
counts them on the wire (the DevTools protocol's ``encodedDataLength``:
headers and body, redirects included), on a cold cache (every thumbnail
made on this load) and on a second load. The figures are printed and written
to ``artifacts/derived-image-list-<backend>.json`` (``bench/README.md`` and
``docs/images.md`` quote them); the test asserts what makes them small: every
thumbnail is a derived copy under 20 KB, no original is loaded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from accounts.models import User
from imagesets.derived import DERIVED_URL_VALID, THUMBNAIL, derived_path
from imagesets.models import Image
from imagesets.tests import photos
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage.local import unsign_read_token
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
ROWS = 25


class Wire:
    """What Chromium received, per request (DevTools ``Network`` events): URL, status, content type, bytes."""

    def __init__(self, context, page):
        self.requests: dict[str, dict] = {}
        self.redirects: list[dict] = []
        session = context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.responseReceived", self._received)
        session.on("Network.loadingFinished", self._finished)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": False})

    def _sent(self, event):
        redirect = event.get("redirectResponse")
        if redirect:  # the redirect's own response ends here; the request goes on under the same id
            self.redirects.append(
                {
                    "url": redirect["url"],
                    "bytes": redirect.get("encodedDataLength", 0),
                    "cached": bool(redirect.get("fromDiskCache") or redirect.get("fromMemoryCache")),
                }
            )
        self.requests[event["requestId"]] = {"url": event["request"]["url"], "bytes": 0, "cached": False}

    def _received(self, event):
        entry = self.requests.setdefault(event["requestId"], {"url": event["response"]["url"], "bytes": 0})
        entry.update(
            url=event["response"]["url"],
            status=event["response"]["status"],
            type=event["response"].get("mimeType", ""),
            cached=bool(event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache")),
        )

    def _finished(self, event):
        self.requests.setdefault(event["requestId"], {"url": "?", "bytes": 0})["bytes"] = event["encodedDataLength"]

    def reset(self):
        self.requests, self.redirects = {}, []

    @property
    def total(self) -> int:
        return sum(r["bytes"] for r in (*self.redirects, *self.requests.values()))

    def thumbnail_pages_asked(self) -> int:
        """Thumbnail redirects the server was asked for (not taken from the browser's cache)."""
        return sum(1 for r in self.redirects if "/thumbnail/" in r["url"] and not r["cached"])


def stored_path(url: str) -> str:
    """The storage path a read URL reads (local token, or Azure blob URL)."""
    parts = urlsplit(url)
    if parts.path.startswith("/api/v1/files/"):
        return unsign_read_token(parts.path.rsplit("/", 1)[1])[0]
    return parts.path.split("/", 2)[2]  # /<account>/<container>/<key>


def is_read_url(url: str) -> bool:
    return "/api/v1/files/" in url or "sig=" in url


def all_thumbnails_shown(page) -> None:
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # they load lazily
    page.wait_for_function(
        "() => [...document.querySelectorAll('#result_list img.lh-thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    page.wait_for_load_state("networkidle")


def test_the_image_list_of_25_camera_images_loads_thumbnails_not_originals(live_server, browser, any_storage, request):
    from playwright.sync_api import expect

    backend = settings.STORAGE_BACKEND
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    imageset = ImageSetFactory(title="camera-roll", status="finished")
    files = photos.camera_files()
    names = list(files)
    images = []
    for n in range(ROWS):
        name = names[n % len(names)]
        data = files[name]
        path = f"{settings.AZURE_STORAGE_IMAGESET_CONTAINER}/uploads/camera-roll/{n:02d}-{name}"
        any_storage.write(path, [data], content_type="image/png" if name.endswith(".png") else "image/jpeg")
        width, height = photos_size(data)
        images.append(
            ImageFactory(
                imageset=imageset,
                blobstorage_path=path,
                filetype="PNG" if name.endswith(".png") else "JPEG",
                content_type="image/png" if name.endswith(".png") else "image/jpeg",
                filesize=len(data),
                width=width,
                height=height,
                orientation=6 if "upright" in name else None,
            )
        )
    originals = sum(image.filesize for image in images)
    thumbnail_paths = {derived_path(image_id=i.pk, blobstorage_path=i.blobstorage_path, kind=THUMBNAIL) for i in images}

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page, errors = admin_page(context, email="staff@example.com", password=PASSWORD, timeout_ms=60_000)
    wire = Wire(context, page)

    # Cold: every thumbnail is made on this load.
    started = time.perf_counter()
    page.goto(f"/admin/imagesets/image/?imageset__id__exact={imageset.pk}")
    expect(page.locator("#result_list img.lh-thumb")).to_have_count(ROWS)
    all_thumbnails_shown(page)
    cold_seconds = time.perf_counter() - started
    cold = dict(wire.requests)
    cold_total = wire.total
    assert wire.thumbnail_pages_asked() == ROWS

    sources = page.locator("#result_list img.lh-thumb").evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))")
    assert sorted(sources) == sorted(f"/admin/imagesets/image/{i.pk}/thumbnail/" for i in images)
    sizes = page.locator("#result_list img.lh-thumb").evaluate_all(
        "imgs => imgs.map(i => Math.max(i.naturalWidth, i.naturalHeight))"
    )
    assert sizes == [THUMBNAIL.longest_side] * ROWS
    read = [r for r in cold.values() if is_read_url(r["url"])]
    assert {stored_path(r["url"]) for r in read} == thumbnail_paths  # each a derived copy, no original
    assert all(r["bytes"] < 20_000 for r in read), [r["bytes"] for r in read]
    thumbnail_bytes = sum(r["bytes"] for r in read)
    # Upright: the phone's portrait photos (stored landscape, EXIF 6) are taller than wide.
    upright = [i.pk for i in images if i.orientation == 6]
    shapes = page.locator("#result_list img.lh-thumb").evaluate_all(
        "imgs => Object.fromEntries(imgs.map(i => [i.getAttribute('src'), i.naturalHeight > i.naturalWidth]))"
    )
    assert [pk for pk in upright if shapes[f"/admin/imagesets/image/{pk}/thumbnail/"]] == upright
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"image-list-thumbnails-{backend}.png"))

    # Again: the browser kept the redirects and the copies.
    wire.reset()
    started = time.perf_counter()
    page.goto(f"/admin/imagesets/image/?imageset__id__exact={imageset.pk}")
    all_thumbnails_shown(page)
    warm_seconds = time.perf_counter() - started
    warm_total = wire.total
    warm_asked = wire.thumbnail_pages_asked()
    assert warm_asked == 0  # Cache-Control: the browser follows the redirects it kept, to the copies it kept

    # The image's page: the display copy, the original one click away.
    image = images[1]  # the phone's portrait photo
    page.goto(f"/admin/imagesets/image/{image.pk}/change/")
    preview = page.locator("img.lh-preview")
    expect(preview).to_have_attribute("src", f"/admin/imagesets/image/{image.pk}/display/")
    page.wait_for_function("() => document.querySelector('img.lh-preview').naturalWidth > 0")
    assert preview.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [1536, 2048]
    page.screenshot(path=str(ARTIFACTS / f"image-page-display-{backend}.png"))
    with page.expect_response(lambda r: is_read_url(r.url)) as original:
        page.get_by_role("link", name="Open the original").click()
    assert stored_path(original.value.url) == image.blobstorage_path
    assert original.value.header_value("content-type") == "image/jpeg"
    assert len(original.value.body()) == image.filesize
    assert not errors, errors

    figures = {
        "backend": backend,
        "rows": ROWS,
        "originals_bytes": originals,
        "cold_page_bytes": cold_total,
        "cold_thumbnail_bytes": thumbnail_bytes,
        "cold_requests": len(cold),
        "cold_seconds_to_every_thumbnail": round(cold_seconds, 2),
        "warm_page_bytes": warm_total,
        "warm_thumbnail_pages_asked": warm_asked,
        "warm_seconds": round(warm_seconds, 2),
        "thumbnail_read_url_valid_seconds": int(DERIVED_URL_VALID.total_seconds()),
    }
    (ARTIFACTS / f"derived-image-list-{backend}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    assert Image.objects.count() == ROWS


def photos_size(data: bytes) -> tuple[int, int]:
    from io import BytesIO

    from PIL import Image as PILImage

    with PILImage.open(BytesIO(data)) as im:
        return im.size
