// The image-set page: upload files straight into the dropbox, and follow the finish job.
"use strict";
// Loaded in <head> (the admin's form media): start once the page is parsed.
document.addEventListener("DOMContentLoaded", function () {
  const root = document.getElementById("lh-imageset");
  if (!root) return;

  // --- upload ----------------------------------------------------------------
  // Every file is one PUT <dropbox path>/<name>?<dropbox query>, as any client
  // uploads (Azure's Put Blob; the local dropbox accepts the same request).
  const PARALLEL = 4;
  const urlInput = document.getElementById("lh-dropbox-url");
  const picker = document.getElementById("lh-files");
  const zone = document.getElementById("lh-dropzone");
  const batches = document.getElementById("lh-batches");
  let running = 0;
  let batchNumber = 0;

  function uploadUrl(name) {
    const url = urlInput.value;
    const cut = url.indexOf("?");
    const base = (cut < 0 ? url : url.slice(0, cut)).replace(/\/+$/, "");
    const query = cut < 0 ? "" : url.slice(cut);
    return base + "/" + name.split("/").map(encodeURIComponent).join("/") + query;
  }

  async function put(file) {
    const response = await fetch(uploadUrl(file.name), {
      method: "PUT",
      body: file,
      headers: {"x-ms-blob-type": "BlockBlob"},
    });
    if (!response.ok) {
      let reason = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        if (body && body.detail) reason = response.status + " " + body.detail;
      } catch (ignored) { /* Azure answers XML */ }
      throw new Error(reason);
    }
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KiB";
    return (bytes / 1024 / 1024).toFixed(1) + " MiB";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function uploadBatch(files) {
    if (!files.length) return;
    batchNumber += 1;
    running += 1;
    const totalBytes = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    const item = element("li", "lh-batch");
    item.dataset.state = "uploading";
    const bar = element("progress", "lh-progress");
    bar.max = Math.max(totalBytes, 1);
    bar.value = 0;
    const text = element("span", "lh-batch-text");
    const failures = element("ul", "lh-failures");
    item.append(element("strong", "", "Batch " + batchNumber + ": "), bar, " ", text, failures);
    batches.appendChild(item);

    const queue = files.slice();
    let uploaded = 0;
    let failed = 0;
    let bytes = 0;
    function render(finished) {
      text.textContent = uploaded + " of " + files.length + " uploaded" + (failed ? ", " + failed + " failed" : "") +
        " (" + size(bytes) + " of " + size(totalBytes) + ")" + (finished ? " — done" : "");
      bar.value = bytes;
    }
    async function worker() {
      while (queue.length) {
        const file = queue.shift();
        try {
          await put(file);
          uploaded += 1;
        } catch (error) {
          failed += 1;
          failures.appendChild(element("li", "lh-failed", file.name + ": " + error.message));
        }
        bytes += file.size;
        render(false);
      }
    }
    render(false);
    const workers = [];
    for (let i = 0; i < Math.min(PARALLEL, files.length); i += 1) workers.push(worker());
    Promise.all(workers).then(function () {
      running -= 1;
      item.dataset.state = failed ? "failed" : "done";
      render(true);
    });
  }

  if (urlInput && picker && zone) {
    picker.addEventListener("change", function () {
      uploadBatch(Array.from(picker.files));
      picker.value = "";
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("lh-dragover");
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("lh-dragover"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("lh-dragover");
      uploadBatch(Array.from(event.dataTransfer.files));
    });
    // A file dropped next to the box must not make the browser leave the page.
    window.addEventListener("dragover", function (event) { event.preventDefault(); });
    window.addEventListener("drop", function (event) { event.preventDefault(); });
  }

  const finishForm = document.getElementById("lh-finish-form");
  if (finishForm) {
    finishForm.addEventListener("submit", function (event) {
      if (running && !window.confirm("Uploads are still running; files not yet uploaded will be missing. Finish anyway?")) {
        event.preventDefault();
      }
    });
  }

  // --- the finish job ----------------------------------------------------------
  const statusUrl = root.dataset.statusUrl;
  const pollMs = 1000 * (Number(root.dataset.pollSeconds) || 1);

  function setText(id, value) {
    const node = document.getElementById(id);
    if (node) node.textContent = value;
    return node;
  }

  function setStatus(id, status, fallback) {
    const node = setText(id, status || fallback);
    if (node) node.className = "lh-status lh-status-" + (status || "none");
  }

  function when(value) {
    return value ? String(value).replace("T", " ").replace(/\.\d+/, "").replace(/(Z|\+00:00)$/, "") : "—";
  }

  function isActive(job) {
    return Boolean(job) && (job.status === "queued" || job.status === "running");
  }

  function render(payload) {
    setStatus("lh-set-status", payload.status, "");
    setText("lh-image-count", String(payload.image_count));
    const job = payload.job;
    setStatus("lh-job-status", job && job.status, "not started");
    const bar = document.getElementById("lh-job-progress");
    if (job) {
      bar.max = Math.max(job.progress.total, 1);
      bar.value = job.progress.done;
    }
    setText("lh-job-progress-text", job ? job.progress.done + "/" + job.progress.total : "—");
    setText("lh-job-skipped", job && job.skipped && job.skipped.length ? job.skipped.join(", ") : "none");
    setText("lh-job-error", (job && job.error) || "—");
    setText("lh-job-started", when(job && job.date_started));
    setText("lh-job-done", when(job && job.date_done));
    setText("lh-job-took", payload.job_took ? "(took " + payload.job_took + ")" : "");
    const facts = document.getElementById("lh-job-facts");
    if (facts) {
      const known = Boolean(job) && job.images_with_date !== null && job.images_with_date !== undefined;
      facts.hidden = !known;
      if (known) {
        setText("lh-job-with-date", String(job.images_with_date));
        setText("lh-job-with-location", String(job.images_with_location));
      }
    }
    document.getElementById("lh-retry-form").hidden = !payload.may_retry;
  }

  async function poll() {
    let next = pollMs;
    try {
      const response = await fetch(statusUrl, {headers: {Accept: "application/json"}, cache: "no-store"});
      if (response.ok) {
        const payload = await response.json();
        render(payload);
        if (!isActive(payload.job)) return;
      } else {
        next = 5 * pollMs;
      }
    } catch (error) {
      next = 5 * pollMs;
    }
    window.setTimeout(poll, next);
  }

  const initial = JSON.parse(document.getElementById("lh-imageset-payload").textContent);
  if (isActive(initial.job)) window.setTimeout(poll, pollMs);
});
