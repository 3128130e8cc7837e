// The review page, a workspace (campaigns/admin/review.py): the image fitted beside the decision panel, zoom and
// pan, captions that stay legible at any scale, and the reviewer's keys:
//   A accept, R reject (reason picker: Enter confirms, Esc cancels), U undo your last decision,
//   N next image awaiting review, ← → previous and next image of the filter,
//   C captions, P pre-annotations, wheel or + − zoom (around the cursor), drag to pan, 0 fit.
// One decision per key press: auto-repeat is ignored, and once a decision is sent every other one waits for the
// next page (the server refuses a second one anyway: the form names the latest decision the page showed).
"use strict";
(function () {
  const MAX_PIXEL = 16; // zoom in at most to 16 screen pixels per image pixel
  const TINY = { width: 14, height: 10 }; // a box smaller than this on screen shows no caption
  const COMPACT_BELOW = 90; // a crowded image has short captions while its median box is narrower on screen
  const CAPTION_HEIGHT = 16; // a box closer to the image's top has its caption inside it

  const remembered = function (key, fallback) {
    try {
      const value = window.localStorage.getItem(key);
      return value === null ? fallback : value === "1";
    } catch (error) {
      return fallback;
    }
  };
  const remember = function (key, on) {
    try {
      window.localStorage.setItem(key, on ? "1" : "0");
    } catch (error) {
      // private mode: the choice lasts for this page only
    }
  };

  // --- the image: fit, zoom, pan, captions -------------------------------------------------------------

  const viewport = document.getElementById("lh-viewport");
  const stage = document.getElementById("lh-stage");
  const image = document.getElementById("lh-review-image");
  const boxes = document.getElementById("lh-boxes");
  const zoomText = document.getElementById("lh-zoom");
  const captions = stage ? Array.from(stage.querySelectorAll(".lh-caption")) : [];
  captions.forEach(function (caption) {
    caption.dataset.full = caption.textContent;
  });
  const view = { zoom: 1, x: 0, y: 0, fit: 1, moved: false };

  const shownSize = function () {
    const width = Number(stage.dataset.width) || image.naturalWidth;
    const height = Number(stage.dataset.height) || image.naturalHeight;
    return width && height ? { width: width, height: height } : null;
  };

  const clampPan = function (width, height) {
    const room = { width: viewport.clientWidth, height: viewport.clientHeight };
    // Smaller than the room: centred; larger: no empty margin on either side.
    view.x = width <= room.width ? (room.width - width) / 2 : Math.min(0, Math.max(room.width - width, view.x));
    view.y = height <= room.height ? (room.height - height) / 2 : Math.min(0, Math.max(room.height - height, view.y));
  };

  const placeCaptions = function (width, height) {
    const widths = [];
    captions.forEach(function (caption) {
      const box = (caption.dataset.box || "").split(" ").map(Number);
      if (box.length !== 4) return;
      const onScreen = { top: (box[1] / 100) * height, width: (box[2] / 100) * width, height: (box[3] / 100) * height };
      widths.push(onScreen.width);
      caption.classList.toggle("lh-tiny", onScreen.width < TINY.width || onScreen.height < TINY.height);
      caption.classList.toggle("lh-inside", onScreen.top < CAPTION_HEIGHT);
      caption.dataset.room = String(onScreen.width);
    });
    widths.sort(function (a, b) {
      return a - b;
    });
    const median = widths.length ? widths[Math.floor(widths.length / 2)] : Infinity;
    const compact = stage.classList.contains("lh-crowded") && median < COMPACT_BELOW;
    if (stage.classList.contains("lh-compact") !== compact || !stage.dataset.placed) {
      stage.classList.toggle("lh-compact", compact);
      captions.forEach(function (caption) {
        caption.textContent = compact && caption.dataset.short ? caption.dataset.short : caption.dataset.full;
      });
    }
    // A crowded image's captions are no wider than their boxes (they would hide the neighbours); others may be.
    captions.forEach(function (caption) {
      caption.style.maxWidth = compact ? Math.max(Number(caption.dataset.room), 36) + "px" : "";
    });
  };

  const layout = function () {
    const size = shownSize();
    if (!size || !viewport.clientWidth) return;
    const enlarge = Number(stage.dataset.maxEnlarge) || 4;
    view.fit = Math.min(viewport.clientWidth / size.width, viewport.clientHeight / size.height, enlarge);
    const scale = view.fit * view.zoom;
    const width = size.width * scale;
    const height = size.height * scale;
    if (!view.moved) {
      view.x = (viewport.clientWidth - width) / 2;
      view.y = (viewport.clientHeight - height) / 2;
    }
    clampPan(width, height);
    stage.classList.add("lh-placed");
    stage.style.width = width + "px";
    stage.style.height = height + "px";
    stage.style.transform = "translate(" + view.x + "px, " + view.y + "px)";
    if (!boxes.getAttribute("viewBox")) {
      // The image's size was not recorded: take it from the file itself.
      boxes.setAttribute("viewBox", "0 0 " + size.width + " " + size.height);
    }
    boxes.style.setProperty("--lh-scale", String(size.width / width));
    placeCaptions(width, height);
    sharpen(size, width);
    stage.dataset.placed = "true";
    if (zoomText) zoomText.textContent = "zoom " + Math.round(scale * 100) + " %";
  };

  // The image shown is a display copy: zoomed in past its detail, the original takes its place once decoded.
  const sharpen = function (size, width) {
    const original = image.dataset.original;
    const copy = image.naturalWidth;
    if (!original || image.dataset.full || !copy || copy >= size.width) return;
    if (width * (window.devicePixelRatio || 1) <= copy * 1.25) return;
    image.dataset.full = "loading";
    const full = new Image();
    full.src = original;
    full.decode().then(
      function () {
        image.src = original;
        image.dataset.full = "shown";
      },
      function () {
        image.dataset.full = "failed";
      }
    );
  };

  const zoomAt = function (factor, x, y) {
    const size = shownSize();
    if (!size) return;
    const before = view.fit * view.zoom;
    const zoom = Math.min(Math.max(view.zoom * factor, 1), Math.max(1, MAX_PIXEL / view.fit));
    const after = view.fit * zoom;
    // The image's point under the cursor stays under it.
    view.x = x - ((x - view.x) / before) * after;
    view.y = y - ((y - view.y) / before) * after;
    view.zoom = zoom;
    view.moved = zoom !== 1;
    layout();
  };

  const fit = function () {
    view.zoom = 1;
    view.moved = false;
    layout();
  };

  const toggles = {
    captions: { button: document.getElementById("lh-toggle-captions"), key: "lh-review-captions", css: "lh-hide-captions", shownWhenSet: false },
    predictions: { button: document.getElementById("lh-toggle-predictions"), key: "lh-review-predictions", css: "lh-show-predictions", shownWhenSet: true },
  };
  const show = function (name, on) {
    const toggle = toggles[name];
    if (!stage) return;
    stage.classList.toggle(toggle.css, toggle.shownWhenSet ? on : !on);
    if (toggle.button) toggle.button.setAttribute("aria-pressed", on ? "true" : "false");
    remember(toggle.key, on);
  };
  const shown = function (name) {
    const toggle = toggles[name];
    return stage.classList.contains(toggle.css) === toggle.shownWhenSet;
  };
  const flip = function (name) {
    if (name === "predictions" && !document.getElementById("lh-predictions")) return false;
    show(name, !shown(name));
    return true;
  };

  if (stage) {
    show("captions", remembered(toggles.captions.key, true));
    show("predictions", remembered(toggles.predictions.key, false));
    Object.keys(toggles).forEach(function (name) {
      if (toggles[name].button) toggles[name].button.addEventListener("click", function () { flip(name); });
    });
    const fitButton = document.getElementById("lh-fit");
    if (fitButton) fitButton.addEventListener("click", fit);

    layout();
    const shownNow = function () {
      layout();
      const mark = function () {
        // The image is decoded and on screen (the browser tests wait for it).
        window.requestAnimationFrame(function () { stage.dataset.shown = "true"; });
      };
      (image.decode ? image.decode() : Promise.resolve()).then(mark, mark);
    };
    if (image.complete && image.naturalWidth) shownNow();
    else image.addEventListener("load", shownNow, { once: true });
    image.addEventListener("error", function () {
      // No display copy to be had: the original, as the browser can show it.
      if (image.dataset.original && !image.dataset.full) {
        image.dataset.full = "shown";
        image.addEventListener("load", shownNow, { once: true });
        image.src = image.dataset.original;
      }
    });
    window.addEventListener("resize", layout);

    viewport.addEventListener(
      "wheel",
      function (event) {
        event.preventDefault();
        const room = viewport.getBoundingClientRect();
        const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? room.height : 1;
        zoomAt(Math.exp(-event.deltaY * lines * 0.002), event.clientX - room.left, event.clientY - room.top);
      },
      { passive: false }
    );
    let drag = null;
    viewport.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, id: event.pointerId };
      viewport.setPointerCapture(event.pointerId);
      viewport.classList.add("lh-panning");
    });
    viewport.addEventListener("pointermove", function (event) {
      if (!drag || event.pointerId !== drag.id) return;
      view.x += event.clientX - drag.x;
      view.y += event.clientY - drag.y;
      drag.x = event.clientX;
      drag.y = event.clientY;
      view.moved = true;
      layout();
    });
    const release = function (event) {
      if (!drag || event.pointerId !== drag.id) return;
      drag = null;
      viewport.classList.remove("lh-panning");
    };
    viewport.addEventListener("pointerup", release);
    viewport.addEventListener("pointercancel", release);
  }

  // --- decisions: one per key press, locked once sent ----------------------------------------------------

  let locked = false;
  const unlock = function () {
    locked = false;
    document.body.classList.remove("lh-busy");
  };
  // Back to this page from the history (a cached page): its decision was sent long ago.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) unlock();
  });

  const rejectForm = document.getElementById("lh-reject-form");
  const rejectError = document.getElementById("lh-reject-error");
  const reasonCode = document.getElementById("lh-reason-code");
  const reason = document.getElementById("lh-reason");
  const opener = document.getElementById("lh-reject-open");
  const openReject = function () {
    if (!rejectForm) return;
    rejectForm.hidden = false;
    if (opener) opener.setAttribute("aria-expanded", "true");
    reasonCode.focus();
  };
  const closeReject = function () {
    if (!rejectForm) return;
    rejectForm.hidden = true;
    if (opener) opener.setAttribute("aria-expanded", "false");
    if (rejectError) rejectError.hidden = true;
    document.activeElement.blur();
  };
  if (opener) opener.addEventListener("click", openReject);
  const cancel = document.getElementById("lh-reject-cancel");
  if (cancel) cancel.addEventListener("click", closeReject);
  if (rejectForm) {
    rejectForm.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeReject();
      } else if (event.key === "Enter" && event.target.tagName !== "BUTTON") {
        event.preventDefault();
        if (!event.repeat) rejectForm.requestSubmit();
      }
    });
    if (!rejectForm.hidden) reasonCode.focus(); // shown again after a refusal: carry on where it stopped
  }

  document.addEventListener(
    "submit",
    function (event) {
      const form = event.target;
      if (!form.classList || !form.classList.contains("lh-decide-form")) return;
      if (locked) {
        event.preventDefault();
        return;
      }
      if (form === rejectForm && !reasonCode.value && !reason.value.trim()) {
        // Said in the picker, which stays open with what was typed.
        event.preventDefault();
        rejectError.textContent = rejectForm.dataset.noReason;
        rejectError.hidden = false;
        reasonCode.focus();
        return;
      }
      locked = true;
      document.body.classList.add("lh-busy");
    },
    true
  );

  const undoForm = document.getElementById("lh-undo-form");
  if (undoForm) {
    // Hidden once the server would refuse it.
    const left = Number(undoForm.dataset.until) - Date.now();
    if (left > 0) window.setTimeout(function () { undoForm.hidden = true; }, left);
    else undoForm.hidden = true;
  }

  const submit = function (id) {
    const form = document.getElementById(id);
    if (!form || form.hidden) return false;
    form.requestSubmit();
    return true;
  };
  const go = function (id) {
    const link = document.getElementById(id);
    if (link) window.location.assign(link.href);
    return Boolean(link);
  };
  const centre = function () {
    return { x: viewport.clientWidth / 2, y: viewport.clientHeight / 2 };
  };

  const KEYS = {
    a: function () { return submit("lh-accept-form"); },
    r: function () {
      if (!rejectForm) return false;
      openReject();
      return true;
    },
    u: function () { return submit("lh-undo-form"); },
    n: function () { return go("lh-next-pending"); },
    ArrowLeft: function () { return go("lh-prev"); },
    ArrowRight: function () { return go("lh-next"); },
    c: function () { return stage ? flip("captions") : false; },
    p: function () { return stage ? flip("predictions") : false; },
    0: function () {
      if (!stage) return false;
      fit();
      return true;
    },
  };
  const ZOOM_KEYS = { "+": 1.25, "=": 1.25, "-": 0.8 };

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (ZOOM_KEYS[key] && stage) {
      const at = centre();
      zoomAt(ZOOM_KEYS[key], at.x, at.y);
      event.preventDefault();
      return;
    }
    const action = Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : null;
    if (!action) return;
    if (event.repeat) {
      // A held key acts once: never on the next image, which the reviewer has not seen yet.
      event.preventDefault();
      return;
    }
    if (action()) event.preventDefault();
  });
})();
