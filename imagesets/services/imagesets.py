"""Creating and deleting image sets (each with its dropbox)."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import Actor, audit_record
from core.db import conflict_on_duplicate
from core.exceptions import Conflict
from core.validators import validate_metadata, validate_title
from imagesets.models import Image, ImageSet, ImageSetJob
from imagesets.naming import dropbox_name, final_folder
from imagesets.selectors import imageset_lock
from imagesets.services.dropbox import dropbox_open
from integrations.storage import ObjectNotFound, get_storage
from integrations.storage.base import Storage


def imageset_create(*, title: str, metadata: dict | None = None, created_by) -> ImageSet:
    """A new set in ``created`` with its dropbox; 422 invalid title, 409 duplicate, 400 bad metadata.

    The set comes back with ``dropbox_url`` set (see ``imageset_dropbox_url``).
    """
    validate_title(title)
    validate_metadata(metadata)
    duplicate = f"An image set titled '{title}' already exists"
    if ImageSet.objects.filter(title=title).exists():
        raise Conflict(duplicate)
    name = dropbox_name(title)
    with conflict_on_duplicate(duplicate):
        imageset = ImageSet.objects.create(title=title, metadata=metadata, created_by=created_by, blobstorage_path=name)
        # Inside the transaction: if storage fails the row is rolled back.
        storage = get_storage()
        storage.create_dropbox(name)
        imageset.dropbox_url = dropbox_open(storage, imageset)
    return imageset


@transaction.atomic
def imageset_delete(*, imageset_id: int, actor: Actor | None = None) -> None:
    """Delete a set with its dropbox, which revokes every upload URL of the set; 409 if it cannot go.

    Refused while the set has images (they are protected) or while its
    finish job is queued or running. The dropbox is deleted after the row and
    before the commit, under the set's row lock: if storage fails nothing is
    deleted; no order leaves a working upload URL for a deleted set (a failed
    commit would leave a set without dropbox). A finished set's final folder
    holds only unregistered copies (skipped files): they go too, so a new set
    with the same title starts empty.
    """
    imageset = imageset_lock(imageset_id=imageset_id)
    job = ImageSetJob.objects.filter(imageset=imageset).first()
    if job is not None and not job.is_finished:
        raise Conflict(f"The set's finish job is {job.status}; delete the set once the job has ended")
    if imageset.images.exists():
        raise Conflict("Image set has images; a set with images cannot be deleted")
    title, finished = imageset.title, imageset.status == ImageSet.Status.FINISHED
    audit_record(actor=actor, action="imageset.delete", target=imageset, details={"title": title})
    imageset.delete()
    storage = get_storage()
    storage.delete_dropbox(dropbox_name(title))
    if finished:
        _delete_unregistered_files(storage, final_folder(title))


def _delete_unregistered_files(storage: Storage, folder: str) -> None:
    try:
        files = list(storage.list(f"{folder}/"))
    except ObjectNotFound:
        return
    registered = set(
        Image.objects.filter(blobstorage_path__in=[f.path for f in files]).values_list("blobstorage_path", flat=True)
    )
    for stored in files:
        if stored.path not in registered:
            storage.delete(stored.path)
