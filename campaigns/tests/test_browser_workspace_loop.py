"""The reviewer's loop, measured: press ``A``, then the next image is on screen. No bound is asserted.

Headless Chromium against ``live_server`` (local storage, SQLite or the
suite's database), 61 photo-sized JPEGs (4032×3024, about 1 MB) awaiting
review. Three times 20 decisions: pressing ``A`` as soon as the page has
loaded; after looking at each image for a second (time for the page to
prefetch the next image, as it does while a reviewer looks); the same over
a link emulated at 20 Mbit/s with 40 ms latency (Chromium's network
conditions, as a reviewer away from the server has). Each loop is timed in
the browser, from the ``A`` key's ``keydown`` to the next page's image
loaded, decoded and painted (the frame after its ``decode()``), with the
navigation's and the image's own timings beside it. The medians are printed
and written to ``artifacts/reviewer-loop.json``.

    CI=true .venv/bin/python -m pytest -p no:cacheprovider -s campaigns/tests/test_browser_workspace_loop.py
"""

from __future__ import annotations

import json
import re
import statistics

import pytest

from campaigns.tests.test_browser_workspace import (
    ARTIFACTS,
    PASSWORD,
    STAFF,
    TIMEOUT_MS,
    make_workspace,
    review_url,
)
from testing.browser import admin_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOOPS = 20
LOOK_MS = 1000
SLOW_LINK = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}
# (name, how long the reviewer looks at an image before pressing A, the network's conditions)
RUNS = [
    ("at once", 0, None),
    (f"after {LOOK_MS} ms", LOOK_MS, None),
    (f"after {LOOK_MS} ms, 20 Mbit/s 40 ms", LOOK_MS, SLOW_LINK),
]

# In every page, before its own scripts: the time of A's keydown (kept across the navigation), and once the review
# image is decoded and a frame painted, the loop's figures on <html data-lh-loop="...">.
TIMING = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() === "a" && !event.repeat) sessionStorage.setItem("lh-loop-pressed", String(now()));
  }, true);
  const measure = () => {
    const image = document.getElementById("lh-review-image");
    if (!image) return;
    let loaded = null;
    let decoded = null;
    const painted = () => requestAnimationFrame(() => setTimeout(() => {
      const pressed = Number(sessionStorage.getItem("lh-loop-pressed")) || null;
      const navigation = performance.getEntriesByType("navigation")[0];
      const fetched = performance.getEntriesByName(image.currentSrc || image.src)[0];
      document.documentElement.dataset.lhLoop = JSON.stringify({
        loop_ms: pressed ? now() - pressed : null,
        to_navigation_ms: pressed ? performance.timeOrigin - pressed : null,
        page_ms: navigation ? navigation.responseEnd : null,
        image_ms: fetched ? fetched.responseEnd : null,
        image_from_cache: fetched ? fetched.transferSize === 0 : null,
        ready_ms: navigation ? navigation.domContentLoadedEventEnd : null,
        load_ms: loaded,
        decoded_ms: decoded,
        shown_ms: performance.now(),
      });
    }, 0));
    const decode = () => {
      loaded = performance.now();
      const done = () => { decoded = performance.now(); painted(); };
      (image.decode ? image.decode() : Promise.resolve()).then(done, done);
    };
    if (image.complete && image.naturalWidth) decode();
    else image.addEventListener("load", decode, { once: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", measure);
  else measure();
})();
"""


def _median(rows, key):
    values = [row[key] for row in rows if row.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def test_the_reviewers_loop_from_a_to_the_next_image_shown(live_server, browser, settings):
    settings.STORAGE_BACKEND = "local"
    campaign, ids = make_workspace([(4032, 3024, 8, False)] * (len(RUNS) * LOOPS + 1), name="loop", scenes=5)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    context.add_init_script(TIMING)
    page, errors = admin_page(context, email=STAFF, password=PASSWORD, timeout_ms=TIMEOUT_MS)
    page.goto(review_url(campaign, ids[0], "?show=pending"))

    runs = {name: [] for name, _, _ in RUNS}
    network = context.new_cdp_session(page)
    for index in range(len(RUNS) * LOOPS):
        page.wait_for_load_state("load")  # the page's key handler is there (its script is deferred)
        page.wait_for_function("document.documentElement.dataset.lhLoop !== undefined")
        run, look_ms, link = RUNS[index // LOOPS]
        if index % LOOPS == 0 and link is not None:
            network.send("Network.enable")
            network.send("Network.emulateNetworkConditions", link)
        if look_ms:
            page.wait_for_timeout(look_ms)
        page.keyboard.press("a")
        page.wait_for_url(re.compile(rf"/review/{ids[index + 1]}/\?show=pending$"))
        page.wait_for_function("document.documentElement.dataset.lhLoop !== undefined")
        runs[run].append(json.loads(page.evaluate("document.documentElement.dataset.lhLoop")))
    assert not errors, errors
    context.close()

    figures = {
        run: {
            "images": len(rows),
            "median_ms": _median(rows, "loop_ms"),
            "p90_ms": round(statistics.quantiles([r["loop_ms"] for r in rows], n=10)[-1], 1),
            "median_page_ms": _median(rows, "page_ms"),
            "median_image_loaded_ms": _median(rows, "image_ms"),
            "median_dom_ready_ms": _median(rows, "ready_ms"),
            "median_load_event_ms": _median(rows, "load_ms"),
            "median_decoded_ms": _median(rows, "decoded_ms"),
            "median_shown_ms": _median(rows, "shown_ms"),
            "median_keydown_to_navigation_ms": _median(rows, "to_navigation_ms"),
            "images_from_cache": sum(1 for r in rows if r["image_from_cache"]),
            "loops_ms": [round(r["loop_ms"], 1) for r in rows],
        }
        for run, rows in runs.items()
    }
    (ARTIFACTS / "reviewer-loop.json").write_text(json.dumps(figures, indent=2) + "\n")
    for run, figure in figures.items():
        print(
            f"\nreviewer's loop, A pressed {run}: median {figure['median_ms']} ms, p90 {figure['p90_ms']} ms "
            f"over {figure['images']} images (page {figure['median_page_ms']} ms, image loaded "
            f"{figure['median_image_loaded_ms']} ms after the navigation began; {figure['images_from_cache']} "
            "images from the browser's cache)"
        )
    assert all(len(rows) == LOOPS for rows in runs.values())
