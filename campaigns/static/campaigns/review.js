// The review page: keep box captions legible at any display size; keys for the reviewer's work:
// A accept, R reject (reason picker, Enter confirms, Esc cancels), N next image awaiting review,
// arrow keys step through the images of the filter.
"use strict";
(function () {
  const stage = document.getElementById("lh-stage");
  if (stage) {
    const image = document.getElementById("lh-review-image");
    const boxes = document.getElementById("lh-boxes");
    const rescale = function () {
      if (!boxes.getAttribute("viewBox") && image.naturalWidth) {
        // The image's size was not recorded: take it from the file itself.
        boxes.setAttribute("viewBox", "0 0 " + image.naturalWidth + " " + image.naturalHeight);
      }
      const box = boxes.viewBox.baseVal;
      if (box && box.width && image.clientWidth) {
        boxes.style.setProperty("--lh-scale", String(box.width / image.clientWidth));
      }
    };
    if (image.complete) rescale();
    image.addEventListener("load", rescale);
    window.addEventListener("resize", rescale);
  }

  const rejectForm = document.getElementById("lh-reject-form");
  const openReject = function () {
    if (!rejectForm) return;
    rejectForm.hidden = false;
    document.getElementById("lh-reason-code").focus();
  };
  const closeReject = function () {
    if (!rejectForm) return;
    rejectForm.hidden = true;
    document.activeElement.blur();
  };
  const opener = document.getElementById("lh-reject-open");
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
        rejectForm.requestSubmit();
      }
    });
  }

  const go = function (id) {
    const link = document.getElementById(id);
    if (link) window.location.assign(link.href);
    return Boolean(link);
  };

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    let handled = false;
    if (event.key === "ArrowLeft") handled = go("lh-prev");
    else if (event.key === "ArrowRight") handled = go("lh-next");
    else if (event.key === "n" || event.key === "N") handled = go("lh-next-pending");
    else if (event.key === "a" || event.key === "A") {
      const accept = document.getElementById("lh-accept-form");
      if (accept) {
        accept.requestSubmit();
        handled = true;
      }
    } else if ((event.key === "r" || event.key === "R") && rejectForm) {
      openReject();
      handled = true;
    }
    if (handled) event.preventDefault();
  });
})();
