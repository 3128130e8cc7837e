"""Pascal VOC: ``<title>_voc.zip`` with one ``Annotations/<image path>.xml`` per labeled image.

The XML's ``<path>`` names its image. Where the entry name is already taken
(``a.jpg`` and ``a.png``), or the path without its extension already ends in
``__<digits>``, the entry is ``Annotations/<path>__<image id>.xml``
(``archive.EntryNames``), so no two entries share a name.

Boxes are the stored pixels as they are (``xmin``/``ymin`` the top left
corner from 0, ``xmax``/``ymax`` the bottom right), not shifted to VOC's
historical 1-based pixel indices: a reader gets back exactly what labelhub
holds. An image of unknown size keeps its boxes (they are pixels) with
``<width>``/``<height>`` 0, as VOC tools write for an unknown size. A
character XML 1.0 cannot hold (a control character in a label) is written
as U+FFFD.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape

from campaigns.export.archive import EntryNames, zip_chunks
from campaigns.export.selectors import ExportImage, campaign_export_images

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def voc_xml(image: ExportImage) -> str:
    """The annotation of one image."""
    path = image.path_in_container
    folder, filename = posixpath.split(path)
    parts = [
        "<annotation>\n",
        f"  <folder>{_text(folder)}</folder>\n",
        f"  <filename>{_text(filename)}</filename>\n",
        f"  <path>{_text(path)}</path>\n",
        "  <source><database>labelhub</database></source>\n",
        f"  <size><width>{image.width or 0}</width><height>{image.height or 0}</height></size>\n",
        "  <segmented>0</segmented>\n",
    ]
    for obj in image.objects:
        parts.append(
            f"  <object><name>{_text(obj.label)}</name><pose>Unspecified</pose><truncated>0</truncated>"
            f"<difficult>0</difficult><bndbox><xmin>{obj.xmin}</xmin><ymin>{obj.ymin}</ymin>"
            f"<xmax>{obj.xmax}</xmax><ymax>{obj.ymax}</ymax></bndbox></object>\n"
        )
    parts.append("</annotation>\n")
    return "".join(parts)


def voc_zip_chunks(*, campaign_id: int) -> Iterator[bytes]:
    """The VOC zip, streamed: an annotation per labeled image, by image id."""

    def entries():
        names = EntryNames()
        for image in campaign_export_images(campaign_id=campaign_id):
            if not image.labeled:
                continue
            stem = posixpath.splitext(image.path_in_container)[0]
            name = names.unique(f"Annotations/{stem}", ".xml", image.image_id)
            yield name, voc_xml(image).encode("utf-8")

    return zip_chunks(entries())
