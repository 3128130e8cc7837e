"""The files an export wrote, as its job's result lists them, each with a short-lived read URL."""

from __future__ import annotations

from datetime import timedelta

from campaigns.models import CampaignJob
from integrations.storage import StorageError, get_storage

# Read links to an export's files stay valid this long; they are made afresh on every request.
EXPORT_FILE_LINK_VALID_FOR = timedelta(hours=1)


def export_files(job: CampaignJob | None, *, valid_for: timedelta = EXPORT_FILE_LINK_VALID_FOR) -> list[dict]:
    """``{"path", "size", "sha256", "url"}`` per file the job wrote (also those of a failed run), in write order.

    ``url`` is ``None`` when the storage cannot sign one right now; on local storage it is
    site-relative (the caller makes it absolute). Records that are not a file's (a result
    written by an older release) are left out.
    """
    records = (job.result or {}).get("files", []) if job is not None else []
    files = [record for record in records if isinstance(record, dict) and isinstance(record.get("path"), str)]
    storage = get_storage() if files else None
    listed = []
    for record in files:
        try:
            url = storage.read_url(record["path"], valid_for=valid_for)
        except StorageError:
            url = None
        listed.append({"path": record["path"], "size": record.get("size"), "sha256": record.get("sha256"), "url": url})
    return listed
