// The review page: keep box captions legible at any display size; arrow keys step through the images.
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

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    const id = event.key === "ArrowLeft" ? "lh-prev" : event.key === "ArrowRight" ? "lh-next" : null;
    const link = id && document.getElementById(id);
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
})();
