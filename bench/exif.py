"""Cost of the finish job's EXIF step per image: Pillow's parser against labelhub's reader.

    .venv/bin/python bench/exif.py [--number 2000] [--repeat 7]

Times, with ``timeit`` (the best of ``--repeat`` rounds of ``--number``
calls, per call), on the first 64 KiB of three JPEGs of about 200 KB of
noise, as the finish job reads them:

- ``camera``: the EXIF block of ``bench/ingest.py`` (date taken with offset,
  GPS position, orientation);
- ``phone``: a fuller block, as a phone writes one (40 tags in IFD0, the
  Exif IFD and the GPS IFD);
- ``no EXIF``: the same JPEG without a block.

For each: the facts alone on an opened image (``read_facts`` against the
Pillow ``getexif()``/``get_ifd()`` extraction it replaced, each on a freshly
opened image since Pillow caches what it parsed), and the whole
``imagesets.probe.identify`` (open + size + facts) with either, or with the
facts step switched off. Checks that both give the same facts.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def phone_exif() -> bytes:
    from PIL import ExifTags, Image
    from PIL.TiffImagePlugin import IFDRational

    base, gps = ExifTags.Base, ExifTags.GPS
    exif = Image.Exif()
    exif.update(
        {
            base.Make: "Apple",
            base.Model: "iPhone 13",
            base.Orientation: 6,
            base.XResolution: IFDRational(72),
            base.YResolution: IFDRational(72),
            base.ResolutionUnit: 2,
            base.Software: "17.1",
            base.DateTime: "2024:03:14 10:20:30",
            base.HostComputer: "iPhone 13",
            base.YCbCrPositioning: 1,
        }
    )
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {
            base.ExposureTime: IFDRational(1, 120),
            base.FNumber: IFDRational(16, 10),
            base.ExposureProgram: 2,
            base.ISOSpeedRatings: 50,
            base.ExifVersion: b"0232",
            base.DateTimeOriginal: "2024:03:14 10:20:30",
            base.DateTimeDigitized: "2024:03:14 10:20:30",
            base.OffsetTime: "+02:00",
            base.OffsetTimeOriginal: "+02:00",
            base.OffsetTimeDigitized: "+02:00",
            base.ShutterSpeedValue: IFDRational(690, 100),
            base.ApertureValue: IFDRational(135, 100),
            base.BrightnessValue: IFDRational(712, 100),
            base.ExposureBiasValue: IFDRational(0, 1),
            base.MeteringMode: 5,
            base.Flash: 16,
            base.FocalLength: IFDRational(51, 10),
            base.SubsecTimeOriginal: "123",
            base.ColorSpace: 65535,
            base.ExifImageWidth: 4032,
            base.ExifImageHeight: 3024,
            base.SensingMethod: 2,
            base.SceneType: b"\x01",
            base.ExposureMode: 0,
            base.WhiteBalance: 0,
            base.FocalLengthIn35mmFilm: 26,
            base.LensMake: "Apple",
            base.LensModel: "iPhone 13 back dual wide camera 5.1mm f/1.6",
        }
    )
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            gps.GPSLatitudeRef: "N",
            gps.GPSLatitude: (IFDRational(52), IFDRational(22), IFDRational(125, 10)),
            gps.GPSLongitudeRef: "E",
            gps.GPSLongitude: (IFDRational(4), IFDRational(53), IFDRational(0)),
            gps.GPSAltitudeRef: b"\x00",
            gps.GPSAltitude: IFDRational(1234, 100),
            gps.GPSSpeedRef: "K",
            gps.GPSSpeed: IFDRational(0),
            gps.GPSImgDirectionRef: "T",
            gps.GPSImgDirection: IFDRational(12345, 100),
            gps.GPSHPositioningError: IFDRational(5),
        }
    )
    return exif.tobytes()


def noise_jpeg(exif: bytes | None) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3))
    out = BytesIO()
    image.save(out, format="JPEG", quality=90, **({"exif": exif} if exif else {}))
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=2000, help="calls per round (default 2000)")
    parser.add_argument("--repeat", type=int, default=7, help="rounds; the best is reported (default 7)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()
    from PIL import Image

    from bench.ingest import camera_exif
    from imagesets import probe
    from imagesets.exif import NO_FACTS, read_facts
    from imagesets.probe import HEADER_BYTES, identify
    from imagesets.tests.exif_reference import pillow_read_facts

    files = {
        "camera": noise_jpeg(camera_exif())[:HEADER_BYTES],
        "phone": noise_jpeg(phone_exif())[:HEADER_BYTES],
        "no EXIF": noise_jpeg(None)[:HEADER_BYTES],
    }

    def best(fn) -> float:
        return min(timeit.repeat(fn, number=args.number, repeat=args.repeat)) / args.number * 1e6

    def facts_with(reader, data):
        def run():
            with Image.open(BytesIO(data)) as im:
                reader(im, data)

        return run

    def pillow(im, data):
        return pillow_read_facts(im)

    def no_facts(im, data=None):
        return NO_FACTS

    print(f"µs per image, best of {args.repeat} x {args.number}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'file':>8} {'open':>7} {'+Pillow':>8} {'+reader':>8} | {'identify: Pillow':>16} {'reader':>7} {'off':>6}")
    for name, data in files.items():
        with Image.open(BytesIO(data)) as im:
            ours = read_facts(im, data)
        with Image.open(BytesIO(data)) as im:
            theirs = pillow_read_facts(im)
        assert ours == theirs, f"{name}: {ours} != {theirs}"
        opened = best(facts_with(no_facts, data))
        with_pillow = best(facts_with(pillow, data)) - opened
        with_reader = best(facts_with(read_facts, data)) - opened
        identified = {}
        for label, reader in (("Pillow", pillow), ("reader", read_facts), ("off", no_facts)):
            probe.read_facts = reader
            try:
                identified[label] = best(lambda data=data: identify(data))
            finally:
                probe.read_facts = read_facts
        print(
            f"{name:>8} {opened:>7.1f} {with_pillow:>8.1f} {with_reader:>8.1f} | "
            f"{identified['Pillow']:>16.1f} {identified['reader']:>7.1f} {identified['off']:>6.1f}"
        )
    print("open: Image.open + size; +Pillow / +reader: what reading the facts adds to that;")
    print("identify: imagesets.probe.identify with the facts read by Pillow, by the reader, or not at all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
