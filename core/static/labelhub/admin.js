// Copy buttons: <button data-copy-target="id"> copies the text (or input value) of that element.
"use strict";
(function () {
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http (other than localhost) has no Clipboard API: select a textarea and copy.
    return new Promise(function (resolve, reject) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      document.body.removeChild(area);
      (ok ? resolve : reject)();
    });
  }

  function flash(button, text) {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = text;
    setTimeout(function () { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    const text = target.tagName === "INPUT" || target.tagName === "TEXTAREA" ? target.value : target.textContent;
    copyText(text).then(
      function () { flash(button, "Copied"); },
      function () {
        if (target.select) target.select();
        flash(button, "Press Ctrl+C");
      }
    );
  });
})();
