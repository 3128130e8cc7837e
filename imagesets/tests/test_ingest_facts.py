"""The finish job registers each image's date taken, location and orientation, on both storage backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from imagesets.models import Image, ImageSetJob
from imagesets.naming import final_folder
from imagesets.probe import HEADER_BYTES
from imagesets.tests import samples
from imagesets.tests.conftest import finish_and_run, new_imageset

pytestmark = pytest.mark.django_db

TAKEN = datetime(2024, 3, 14, 8, 20, 30, tzinfo=UTC)
FULL = (TAKEN, samples.LAT, samples.LON, 6)


def exif_files() -> dict[str, tuple[bytes, tuple]]:
    """name -> (bytes, expected (date_taken, lat, lon, orientation))."""
    return {
        "camera.jpg": (samples.jpeg_with_exif(), FULL),
        "scan.tiff": (samples.tiff_with_exif(), FULL),
        "phone.png": (samples.png_with_exif(), FULL),
        "maker note.jpg": (samples.jpeg_with_large_maker_note(), FULL),
        "no offset.jpg": (samples.jpeg_with_exif(offset=None, orientation=1), (TAKEN.replace(hour=10), *FULL[1:3], 1)),
        "bad gps.jpg": (samples.jpeg_with_exif(lat=((52, 0), 0, 0)), (TAKEN, None, None, 6)),
        "past the pole.jpg": (samples.jpeg_with_exif(lat=(91, 0, 0), orientation=None), (TAKEN, None, None, None)),
        "plain.png": (samples.png(), (None, None, None, None)),
        "broken.jpg": (samples.encode(samples._image(8, 8), "JPEG", exif=b"Exif\x00\x00junk"), (None,) * 4),
    }


def test_finishing_records_each_images_date_location_and_orientation_from_its_header(
    any_storage, storage_spy, admin_user, django_capture_on_commit_callbacks
):
    files = exif_files()
    imageset = new_imageset(admin_user, files={name: data for name, (data, _) in files.items()}, storage=any_storage)

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    folder = final_folder(imageset.title)
    for name, (data, expected) in files.items():
        image = Image.objects.get(blobstorage_path=f"{folder}/{name}")
        assert (image.date_taken, image.lat, image.lon, image.orientation) == expected, name
        assert (image.date_taken_by_hand, image.location_by_hand) == (False, False)
        if name == "maker note.jpg":  # its header does not fit: one more bounded ranged read, as before
            assert HEADER_BYTES < storage_spy.bytes_read[image.blobstorage_path] <= len(data)
        else:  # the EXIF step reads nothing more than the 64 KiB the probe reads
            assert storage_spy.bytes_read[image.blobstorage_path] <= HEADER_BYTES, name
    assert not storage_spy.full_reads
    job = ImageSetJob.objects.get(imageset=imageset)
    assert job.status == ImageSetJob.Status.SUCCEEDED and job.skipped == []
    assert job.result["images"] == len(files)
    with_date = sum(1 for _, expected in files.values() if expected[0] is not None)
    with_location = sum(1 for _, expected in files.values() if expected[1] is not None)
    assert (job.result["images_with_date"], job.result["images_with_location"]) == (with_date, with_location)
    assert (with_date, with_location) == (7, 5)
    assert job.as_contract()["images_with_date"] == 7 and job.as_contract()["images_with_location"] == 5


def test_a_rerun_of_the_job_never_writes_over_a_date_or_location_set_by_hand(
    any_storage, admin_user, django_capture_on_commit_callbacks
):
    # An interrupted first attempt registered camera.jpg; staff then corrected it by hand.
    imageset = new_imageset(
        admin_user,
        files={"camera.jpg": samples.jpeg_with_exif(), "other.jpg": samples.jpeg_with_exif()},
        storage=any_storage,
    )
    corrected = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    Image.objects.create(
        imageset=imageset,
        blobstorage_path=f"{final_folder(imageset.title)}/camera.jpg",
        date_taken=corrected,
        date_taken_by_hand=True,
        lat=-1.5,
        lon=2.5,
        location_by_hand=True,
    )

    finish_and_run(imageset, django_capture_on_commit_callbacks)

    kept = Image.objects.get(blobstorage_path__endswith="/camera.jpg")
    assert (kept.date_taken, kept.lat, kept.lon) == (corrected, -1.5, 2.5)
    assert (kept.date_taken_by_hand, kept.location_by_hand) == (True, True)
    read = Image.objects.get(blobstorage_path__endswith="/other.jpg")
    assert (read.date_taken, read.lat, read.lon) == FULL[:3]
    result = ImageSetJob.objects.get(imageset=imageset).result
    assert (result["images_with_date"], result["images_with_location"]) == (2, 2)
