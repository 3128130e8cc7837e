// labelhub's admin pages: copy buttons, confirmations before a step that cannot be undone, live panels.
"use strict";
(function () {
  // --- copy buttons: <button data-copy-target="id"> copies the text (or input value) of that element -------
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

  // --- confirmations: a submit button (or form) with data-lh-confirm="question" asks first ------------------
  // Listening on the document covers forms a live panel puts in later.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const button = event.submitter;
    const question = (button && button.dataset.lhConfirm) || form.dataset.lhConfirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // --- live panels -----------------------------------------------------------------------------------------
  // <div data-lh-live-url="…" data-lh-live-seconds="1" data-lh-live-active> polls its URL, which answers
  // {"active": bool, "panels": {"<element id>": "<html>"}}: each element is replaced by its new html, and
  // polling stops once "active" is false (the job succeeded or failed).
  function follow(root) {
    const url = root.dataset.lhLiveUrl;
    const every = 1000 * (Number(root.dataset.lhLiveSeconds) || 1);
    let polls = 0;

    async function poll() {
      polls += 1;
      // A job still queued after a minute waits for a worker: ask less often.
      let next = polls > 60 ? 5 * every : every;
      try {
        const response = await fetch(url, {headers: {Accept: "application/json"}, cache: "no-store"});
        if (response.ok) {
          const answer = await response.json();
          Object.keys(answer.panels || {}).forEach(function (id) {
            const node = document.getElementById(id);
            if (node) node.outerHTML = answer.panels[id];
          });
          if (!answer.active) {
            delete root.dataset.lhLiveActive;
            root.dispatchEvent(new CustomEvent("lh:live-ended", {bubbles: true}));
            return;
          }
        } else {
          next = 5 * every;
        }
      } catch (error) {
        next = 5 * every;
      }
      window.setTimeout(poll, next);
    }

    window.setTimeout(poll, every);
  }

  function start() {
    document.querySelectorAll("[data-lh-live-url][data-lh-live-active]").forEach(follow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
