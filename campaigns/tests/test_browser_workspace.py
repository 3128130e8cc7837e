"""The review page as a workspace, in a real browser: what a reviewer sees and presses for hours.

Headless Debian Chromium driven by Playwright against ``live_server``, with
photo-sized JPEGs (4032×3024 and 3024×4032 beach scenes with litter on busy
sand) in local storage: the decision controls stay in view at 1366×768 and
1920×1080 for landscape and portrait images, in the same place; a held or
double-pressed ``A`` stores one decision; ``U`` takes it back; boxes are drawn
in the label schema's colours; captions toggle with ``C``; the wheel zooms,
a drag pans and ``0`` fits; the reason picker keeps its error and what was
typed; a crowded image keeps its boxes visible. Screenshots go to
``artifacts/`` (the chosen ones are copied to ``docs/img/``).
"""

from __future__ import annotations

import functools
import io
import random
import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter

from accounts.models import AuditEvent, User
from campaigns.inputs import parse_object_items
from campaigns.models import Campaign, CampaignImage, Review
from campaigns.services.predictions import predictions_replace
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory, replace_objects_from_body
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage import get_storage
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
PASSWORD = "browser-test-Password-1"
STAFF = "reviewer@example.com"
TIMEOUT_MS = 15_000
SIZES = [(1366, 768), (1920, 1080)]
# The label schema: one label with a colour of its own, the others from the palette.
LITTER = {
    "Plastic bottle": ((70, 160, 210), "#1f77b4"),
    "Glass": ((60, 140, 70), None),
    "Metal": ((170, 170, 180), None),
    "Fishing line": ((230, 230, 60), None),
    "Rope": ((200, 120, 40), None),
    "Wood": ((110, 80, 50), None),
}
SCHEMA = [{"name": name, "colour": colour, "description": None} for name, (_, colour) in LITTER.items()]


# --- photo-sized images of litter on a beach, with the boxes of what lies there ---------------------------


@functools.cache
def scene(width: int, height: int, *, seed: int = 0, objects: int = 8, small: bool = False):
    """A JPEG of a beach (sky, sea, grainy sand strewn with pebbles) with ``objects`` pieces of litter, and the
    box of each: ``(jpeg bytes, [(label, xmin, ymin, xmax, ymax)])``."""
    rng = random.Random(seed)
    horizon = int(height * rng.uniform(0.2, 0.3))
    shore = horizon + int(height * 0.07)
    im = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    for y in range(0, height, 4):
        if y < horizon:
            t = y / horizon
            colour = (int(120 + 90 * t), int(170 + 60 * t), int(230 + 20 * t))
        elif y < shore:
            t = (y - horizon) / (shore - horizon)
            colour = (int(40 + 60 * t), int(110 + 60 * t), int(150 + 40 * t))
        else:
            t = (y - shore) / (height - shore)
            colour = (int(214 - 40 * t), int(190 - 40 * t), int(150 - 40 * t))
        draw.rectangle([0, y, width, y + 4], fill=colour)
    noise = PILImage.effect_noise((width // 3, height // 3), 40).resize((width, height))
    noise = noise.filter(ImageFilter.GaussianBlur(1.5))
    im = PILImage.blend(im, PILImage.merge("RGB", (noise, noise, noise)), 0.16)
    draw = ImageDraw.Draw(im)
    for _ in range(width * height // 9000):  # pebbles and shells: a busy texture
        x, y = rng.randrange(width), rng.randrange(shore, height)
        r = rng.randint(2, max(3, width // 250))
        grey = rng.randint(70, 235)
        draw.ellipse([x - r, y - r // 2, x + r, y + r // 2], fill=(grey, grey - 10, grey - 30))
    for _ in range(width // 60):  # seaweed
        x, y = rng.randrange(width), rng.randrange(shore, height)
        points = [(x + rng.randint(-60, 60), y + rng.randint(-20, 20)) for _ in range(4)]
        draw.line(points, fill=(40, 60, 30), width=max(2, width // 800))
    labels = list(LITTER)
    boxes = []
    for index in range(objects):
        label = labels[index % len(labels)]
        scale = (60, 22) if small else (40, 9)
        w = rng.randint(width // scale[0], width // scale[1])
        h = rng.randint(height // scale[0], height // scale[1])
        x, y = rng.randrange(0, width - w), rng.randrange(shore, height - h)
        colour = LITTER[label][0]
        if label == "Fishing line":
            for _ in range(6):
                line = [x + rng.randrange(w), y + rng.randrange(h), x + rng.randrange(w), y + rng.randrange(h)]
                draw.line(line, fill=colour, width=max(2, width // 1000))
        elif label in ("Rope", "Wood"):
            draw.rounded_rectangle([x, y + h // 3, x + w, y + 2 * h // 3], radius=max(1, h // 6), fill=colour)
        else:
            draw.rounded_rectangle(
                [x, y, x + w, y + h], radius=max(1, min(w, h) // 4), fill=colour, outline=(30, 30, 30), width=2
            )
        boxes.append((label, x, y, x + w, y + h))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue(), tuple(boxes)


def make_workspace(shapes, *, name="workspace", predictions=False, schema=SCHEMA, scenes=None):
    """A staff reviewer and an active campaign of one image per ``(width, height, objects, small)``, each labeled
    with the boxes of its scene (``scenes``: that many distinct ones, repeated); returns ``(campaign, image ids)``."""
    User.objects.create_superuser(email=STAFF, password=PASSWORD)
    agency = User.objects.create_user(email="agency@example.com")
    campaign = CampaignFactory(title=name, status=Campaign.Status.ACTIVE, labels=schema)
    imageset = ImageSetFactory(title=f"{name}-photos")
    storage = get_storage()
    items, predicted, ids = [], [], []
    for index, (width, height, objects, small) in enumerate(shapes):
        data, boxes = scene(width, height, seed=index % (scenes or len(shapes)), objects=objects, small=small)
        path = f"images/{name}/beach-{index:03d}.jpg"
        storage.write(path, [data], content_type="image/jpeg")
        image = ImageFactory(
            imageset=imageset,
            blobstorage_path=path,
            width=width,
            height=height,
            filetype="JPEG",
            content_type="image/jpeg",
            filesize=len(data),
        )
        CampaignImageFactory(campaign=campaign, image=image)
        ids.append(image.pk)
        rng = random.Random(index)
        objects_ = [
            {
                "label": label,
                "confidence": round(rng.uniform(0.5, 0.99), 2),
                "bounding_box": {"xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1},
            }
            for label, x0, y0, x1, y1 in boxes
        ]
        items.append({"image_id": image.pk, "objects": objects_})
        # The model saw most boxes a little off, and one that is not there.
        limits = {"xmin": width, "xmax": width, "ymin": height, "ymax": height}
        shifted = [
            {**o, "bounding_box": {k: min(v + 25, limits[k]) for k, v in o["bounding_box"].items()}}
            for o in objects_[1:]
        ]
        ghost = {
            "label": "Glass",
            "confidence": 0.41,
            "bounding_box": {"xmin": 40, "ymin": 40, "xmax": 400, "ymax": 300},
        }
        predicted.append({"image_id": image.pk, "objects": [*shifted, ghost]})
    if predictions:
        predictions_replace(
            campaign_id=campaign.pk,
            model_name="litter-yolo",
            model_version="8.1",
            objects_by_image=parse_object_items(predicted),
            user=None,
        )
    replace_objects_from_body(campaign_id=campaign.pk, items=items, user=agency)
    return campaign, ids


def open_review(browser, live_server, size, url):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=live_server.url, viewport={"width": size[0], "height": size[1]})
    page, errors = admin_page(context, email=STAFF, password=PASSWORD, timeout_ms=TIMEOUT_MS)
    page.goto(url)
    ready(page)
    expect(page.locator("#lh-review-image")).to_have_js_property("complete", True)
    return context, page, errors


def ready(page):
    """The page's script ran (review.js is deferred), placed the image and it is decoded, on screen."""
    from playwright.sync_api import expect

    page.wait_for_load_state("load")
    expect(page.locator("#lh-stage.lh-placed[data-shown]")).to_have_count(1)


def review_url(campaign, image_id, query=""):
    return f"/admin/campaigns/campaign/{campaign.pk}/review/{image_id}/{query}"


def inside(rect, width, height) -> bool:
    return (
        rect["x"] >= 0
        and rect["y"] >= 0
        and rect["x"] + rect["width"] <= width
        and rect["y"] + rect["height"] <= height
    )


# --- the tests -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["1366x768", "1920x1080"])
def test_the_decision_controls_stay_in_view_and_in_place_for_landscape_and_portrait_images(
    live_server, browser, settings, size
):
    settings.STORAGE_BACKEND = "local"
    campaign, (landscape, portrait) = make_workspace([(4032, 3024, 8, False), (3024, 4032, 8, False)])
    ARTIFACTS.mkdir(exist_ok=True)
    width, height = size
    context, page, errors = open_review(browser, live_server, size, review_url(campaign, landscape, "?show=pending"))

    places = {}
    for image_id, shape in ((landscape, "landscape"), (portrait, "portrait")):
        if image_id != landscape:
            # Accepted with A: on to the portrait image, the last one awaiting review (so the panel's
            # navigation, last decision and messages all differ from the landscape image's).
            page.keyboard.press("a")
            page.wait_for_url(re.compile(rf"/review/{portrait}/\?show=pending$"))
            ready(page)
            from playwright.sync_api import expect

            expect(page.locator("#lh-none-pending")).to_be_visible()
            expect(page.locator("#lh-messages")).to_contain_text(f"Image {landscape} accepted.")
        assert page.locator("#nav-sidebar").count() == 0  # no admin sidebar on this page
        # Nothing to scroll: the page is the window.
        assert page.evaluate("document.scrollingElement.scrollHeight") <= height
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        controls = {name: page.locator(name).bounding_box() for name in ("#lh-accept", "#lh-reject-open")}
        assert all(inside(rect, width, height) for rect in controls.values()), controls
        places[shape] = controls
        # The image is fitted whole into the room the panel leaves.
        room = page.locator("#lh-viewport").bounding_box()
        shown = page.locator("#lh-review-image").bounding_box()
        assert shown["x"] >= room["x"] - 1 and shown["x"] + shown["width"] <= room["x"] + room["width"] + 1
        assert shown["y"] >= room["y"] - 1 and shown["y"] + shown["height"] <= room["y"] + room["height"] + 1
        assert max(shown["width"] / room["width"], shown["height"] / room["height"]) > 0.98  # and fills it
        assert room["width"] > 0.7 * width  # most of the window is the image's
        page.screenshot(path=str(ARTIFACTS / f"review-workspace-{shape}-{width}x{height}.png"))
    assert places["landscape"] == places["portrait"]  # the buttons never move
    assert not errors, errors
    context.close()


def test_a_held_or_double_pressed_a_stores_one_decision_per_press(live_server, browser, settings):
    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(1600, 1200, 4, False)] * 4, name="presses")
    context, page, errors = open_review(browser, live_server, SIZES[0], review_url(campaign, ids[0], "?show=pending"))

    # Held: the first keydown decides; the auto-repeats (on this page and on the next) do nothing.
    page.keyboard.down("a")
    page.wait_for_url(re.compile(rf"/review/{ids[1]}/\?show=pending$"))
    ready(page)
    for _ in range(8):
        page.keyboard.down("a")  # repeat=true, as the key's auto-repeat sends it
    page.keyboard.up("a")
    page.wait_for_timeout(300)  # time for a wrong decision to be sent, were one sent
    assert Review.objects.count() == 1
    assert page.url.endswith(f"/review/{ids[1]}/?show=pending")

    # Double-tapped 10 ms apart: one decision.
    page.keyboard.press("a")
    page.wait_for_timeout(10)
    page.keyboard.press("a")
    page.wait_for_url(re.compile(rf"/review/{ids[2]}/\?show=pending$"))
    ready(page)
    page.wait_for_timeout(300)
    assert Review.objects.count() == 2
    assert AuditEvent.objects.filter(action="campaign.review").count() == 2

    # The same form sent twice at once (a double click the page could not stop): the server records one.
    page.evaluate(
        """async () => {
            const form = document.getElementById("lh-accept-form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            await Promise.all([send(), send()]);
        }"""
    )
    assert Review.objects.count() == 3
    assert AuditEvent.objects.filter(action="campaign.review").count() == 3
    # Once more from this page, now stale: refused, and the page it leads to says so.
    said = page.evaluate(
        """async () => {
            const form = document.getElementById("lh-accept-form");
            return fetch(form.action, {method: "POST", body: new FormData(form)}).then(r => r.text());
        }"""
    )
    assert Review.objects.count() == 3
    assert f"Image {ids[2]} was accepted by {STAFF} at " in said and "this decision was not recorded" in said
    assert not errors, errors
    context.close()


def test_u_takes_the_last_decision_back_and_shows_that_image_again(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(1600, 1200, 4, False)] * 3, name="undo")
    context, page, errors = open_review(browser, live_server, SIZES[0], review_url(campaign, ids[0], "?show=pending"))
    page.keyboard.press("a")
    page.wait_for_url(re.compile(rf"/review/{ids[1]}/\?show=pending$"))
    ready(page)
    expect(page.locator("#lh-undo-form")).to_contain_text(f"your acceptance of image {ids[0]}")
    assert Review.objects.count() == 1

    page.keyboard.press("u")
    page.wait_for_url(re.compile(rf"/review/{ids[0]}/\?show=pending$"))
    ready(page)
    expect(page.locator("#lh-messages")).to_contain_text(f"Your decision on image {ids[0]} was undone")
    expect(page.locator("#lh-review-state")).to_have_text("Pending review")
    expect(page.locator("#lh-undo-form")).to_have_count(0)
    assert not Review.objects.exists()
    assert CampaignImage.objects.get(campaign=campaign, image_id=ids[0]).review_state == "pending"
    assert AuditEvent.objects.filter(action="campaign.review_withdraw", actor=STAFF).count() == 1
    assert not errors, errors
    context.close()


def test_boxes_have_the_schemas_colours_a_halo_and_toggled_captions_and_pre_annotations(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(4032, 3024, 8, False)] * 2, name="colours", predictions=True)
    context, page, errors = open_review(browser, live_server, SIZES[0], review_url(campaign, ids[0]))

    def stroke(selector):
        return page.locator(selector).first.evaluate(
            "el => { const s = getComputedStyle(el); return [s.stroke, s.strokeWidth, s.vectorEffect]; }"
        )

    # A label set to #1f77b4 in the schema draws #1f77b4, 2 screen pixels wide whatever the scale, on a dark halo.
    bottle = '#lh-boxes g.lh-box[data-label="Plastic bottle"]'
    assert stroke(f"{bottle} rect:not(.lh-halo)") == ["rgb(31, 119, 180)", "2px", "non-scaling-stroke"]
    assert stroke(f"{bottle} rect.lh-halo")[0] == "rgba(0, 0, 0, 0.7)"
    glass = stroke('#lh-boxes g.lh-box[data-label="Glass"] rect:not(.lh-halo)')[0]
    metal = stroke('#lh-boxes g.lh-box[data-label="Metal"] rect:not(.lh-halo)')[0]
    assert len({glass, metal, "rgb(31, 119, 180)"}) == 3

    captions = page.locator("#lh-captions")
    expect(captions).to_be_visible()
    page.keyboard.press("c")
    expect(captions).to_be_hidden()
    expect(page.locator("#lh-toggle-captions")).to_have_attribute("aria-pressed", "false")
    # Pre-annotations: a layer of their own, dashed, shown with P.
    predictions = page.locator("#lh-predictions")
    expect(predictions).to_be_hidden()
    page.keyboard.press("p")
    expect(predictions).to_be_visible()
    expect(page.locator("#lh-predictions rect.lh-predicted")).to_have_count(8)
    assert page.locator("#lh-predictions rect.lh-predicted").first.evaluate(
        "el => getComputedStyle(el).strokeDasharray"
    ) not in ("none", "")
    page.screenshot(path=str(ARTIFACTS / "review-workspace-pre-annotations-1366x768.png"))

    # The choices hold on the next image.
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(rf"/review/{ids[1]}/$"))
    ready(page)
    expect(page.locator("#lh-captions")).to_be_hidden()
    expect(page.locator("#lh-predictions")).to_be_visible()
    page.keyboard.press("c")
    page.keyboard.press("p")
    expect(page.locator("#lh-captions")).to_be_visible()
    expect(page.locator("#lh-predictions")).to_be_hidden()
    assert not errors, errors
    context.close()


def test_the_wheel_zooms_around_the_cursor_a_drag_pans_and_0_fits_again(live_server, browser, settings):
    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(4032, 3024, 8, False)], name="zoom")
    context, page, errors = open_review(browser, live_server, SIZES[0], review_url(campaign, ids[0]))
    stage = page.locator("#lh-stage")

    def placed():
        return stage.evaluate("el => [el.style.transform, el.getBoundingClientRect().width]")

    fitted = placed()
    room = page.locator("#lh-viewport").bounding_box()
    x, y = room["x"] + room["width"] * 0.3, room["y"] + room["height"] * 0.6
    point = page.evaluate(f"document.elementFromPoint({x}, {y}).closest('#lh-stage') !== null")
    assert point  # the image is under the cursor
    before = stage.bounding_box()
    under = ((x - before["x"]) / before["width"], (y - before["y"]) / before["height"])
    page.mouse.move(x, y)
    page.mouse.wheel(0, -600)
    page.wait_for_function(f"document.getElementById('lh-stage').getBoundingClientRect().width > {fitted[1] * 2}")
    zoomed = placed()
    assert zoomed != fitted
    after = stage.bounding_box()
    # The image's point under the cursor stayed under it.
    assert abs(after["x"] + under[0] * after["width"] - x) < 2 and abs(after["y"] + under[1] * after["height"] - y) < 2
    # Captions keep their screen size at any zoom.
    assert page.locator("#lh-captions .lh-caption").first.evaluate("el => getComputedStyle(el).fontSize") == "12px"
    page.screenshot(path=str(ARTIFACTS / "review-workspace-zoomed-1366x768.png"))

    page.mouse.down()
    page.mouse.move(x + 150, y + 80, steps=5)
    page.mouse.up()
    panned = placed()
    assert panned[0] != zoomed[0] and panned[1] == zoomed[1]

    page.keyboard.press("0")
    assert placed() == fitted
    assert not errors, errors
    context.close()


def test_the_reason_picker_says_what_is_missing_and_stays_open(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(1600, 1200, 4, False)] * 2, name="picker")
    context, page, errors = open_review(browser, live_server, SIZES[0], review_url(campaign, ids[0], "?show=pending"))
    page.keyboard.press("r")
    expect(page.locator("#lh-reject-form")).to_be_visible()
    expect(page.locator("#lh-reason-code")).to_be_focused()
    page.keyboard.press("Enter")
    error = page.locator("#lh-reject-error")
    expect(error).to_have_text(
        "A rejection needs a reason: pick one from the list or write what the agency should fix."
    )
    expect(page.locator("#lh-reject-form")).to_be_visible()
    page.fill("#lh-reason", "   ")
    page.keyboard.press("Enter")
    expect(error).to_be_visible()
    expect(page.locator("#lh-reason")).to_have_value("   ")
    assert page.url.endswith(f"/review/{ids[0]}/?show=pending") and not Review.objects.exists()
    page.screenshot(path=str(ARTIFACTS / "review-workspace-picker-1366x768.png"))

    page.fill("#lh-reason", "the rope at the bottom has no box")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/review/{ids[1]}/\?show=pending$"))
    assert Review.objects.get().reason == "the rope at the bottom has no box"
    assert not errors, errors
    context.close()


def test_a_crowded_image_keeps_its_boxes_visible_under_short_captions(live_server, browser, settings):
    from playwright.sync_api import expect

    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(4032, 3024, 60, True)], name="crowded")
    for size in SIZES:
        context, page, errors = open_review(browser, live_server, size, review_url(campaign, ids[0]))
        expect(page.locator("#lh-boxes g.lh-box")).to_have_count(60)
        expect(page.locator("#lh-stage")).to_have_class(re.compile(r"\blh-compact\b"))
        # Short captions (the labels' abbreviations, listed in the legend), small, only on boxes large enough.
        texts = set(page.locator("#lh-captions .lh-caption").all_text_contents())
        assert texts <= {"PB", "Gla", "Met", "FL", "Rope", "Wood"}, texts
        assert page.locator("#lh-captions .lh-caption").first.evaluate("el => getComputedStyle(el).fontSize") == "10px"
        expect(page.locator("#lh-legend")).to_contain_text("Plastic bottle (PB)")
        page.screenshot(path=str(ARTIFACTS / f"review-workspace-crowded-{size[0]}x{size[1]}.png"))
        # Zoomed in, the boxes are large enough on screen for the whole captions again.
        room = page.locator("#lh-viewport").bounding_box()
        page.mouse.move(room["x"] + room["width"] / 2, room["y"] + room["height"] * 0.7)
        page.mouse.wheel(0, -1200)
        expect(page.locator("#lh-stage")).not_to_have_class(re.compile(r"\blh-compact\b"))
        assert not errors, errors
        context.close()
