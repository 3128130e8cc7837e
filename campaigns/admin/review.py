"""The review page: one campaign image with its boxes drawn over it.

Staff check an agency's delivery here before finishing: the image (its
signed read URL, scaled and turned by its EXIF orientation by the browser)
under an SVG of the boxes (mapped from the file's pixel frame into the shown one) of the
current submission (or of an earlier one, switchable), label and confidence
on each box, one colour per label; previous/next image (buttons and arrow
keys) within a filter: all, unlabeled, labeled (with boxes), labeled empty.
A page costs a fixed number of queries whatever the campaign's size
(the reads are ``campaigns.selectors``' ``review_*``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns.models import BoundingBox, Campaign, CampaignImage, Submission
from campaigns.selectors import (
    REVIEW_FILTERS,
    campaign_image_revisions,
    review_counts,
    review_first_image_id,
    review_image,
    review_place,
    submission_boxes,
)
from imagesets.models import Image
from imagesets.orientation import box_to_display
from imagesets.selectors import image_read_url
from labelhub.admin import admin_page_context, fit_size, parse_id
from labelhub.storage import StorageError

TEMPLATE = "admin/campaigns/campaign/review.html"
# The label of each filter of ``REVIEW_FILTERS``; "labeled" and "empty" split the labeled images by whether they
# hold boxes.
FILTER_LABELS = {"all": "all", "unlabeled": "unlabeled", "labeled": "labeled", "empty": "labeled empty"}

# Saturated and distinct, so boxes stand out on photos; a label keeps its colour on every image and campaign.
PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#ffe119",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#469990",
    "#9a6324",
    "#800000",
    "#808000",
    "#000075",
)
# The image is shown at most this large, and small images are enlarged up to it (at most 4×).
STAGE_SIZE, MAX_ENLARGE = (960, 720), 4


def label_colour(label: str) -> str:
    return PALETTE[zlib.crc32(label.encode("utf-8")) % len(PALETTE)]


@dataclass(frozen=True)
class Box:
    """A bounding box: its coordinates as sent (the file's pixel frame), where it is drawn, caption and colour.

    The contract's boxes are in the file's own pixel frame (the frame of
    ``file.dimensions``). A browser shows the image turned by its EXIF
    orientation, so ``shown`` is the box mapped into that displayed frame
    (``imagesets.orientation``); the page lists the coordinates as sent.
    """

    label: str
    label_original: str
    confidence: float | None
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    colour: str
    shown: tuple[int, int, int, int]  # xmin, ymin, xmax, ymax as displayed

    @classmethod
    def of(cls, box: BoundingBox, image: Image) -> Box:
        corners = (box.xmin, box.ymin, box.xmax, box.ymax)
        if image.width and image.height and image.orientation:
            corners = box_to_display(*corners, image.width, image.height, image.orientation)
        return cls(
            box.label,
            box.label_original,
            box.confidence,
            box.xmin,
            box.ymin,
            box.xmax,
            box.ymax,
            label_colour(box.label),
            corners,
        )

    @property
    def x(self) -> int:
        return self.shown[0]

    @property
    def y(self) -> int:
        return self.shown[1]

    @property
    def width(self) -> int:
        return self.shown[2] - self.shown[0]

    @property
    def height(self) -> int:
        return self.shown[3] - self.shown[1]

    @property
    def caption(self) -> str:
        return self.label if self.confidence is None else f"{self.label} {self.confidence:.2f}"


def _url(campaign_id: int, image_id: int | None, *, show: str, rev: int | None = None) -> str:
    if image_id is None:
        base = reverse("admin:campaigns_campaign_review", args=[campaign_id])
    else:
        base = reverse("admin:campaigns_campaign_review_image", args=[campaign_id, image_id])
    query = {"show": show} if show != "all" else {}
    if rev is not None:
        query["rev"] = rev
    return f"{base}?{urlencode(query)}" if query else base


def review_page(request, model_admin, *, campaign: Campaign, image_id: int | None) -> TemplateResponse:
    """The review of one image of the campaign; without one, the first image of the filter (or an empty page)."""
    show = request.GET.get("show", "all")
    if show not in REVIEW_FILTERS:
        show = "all"
    if image_id is None:
        first = review_first_image_id(campaign_id=campaign.pk, show=show)
        if first is not None:
            return redirect(_url(campaign.pk, first, show=show))
    counts = review_counts(campaign_id=campaign.pk)
    context = admin_page_context(
        request,
        model_admin,
        title=f"Review {campaign.title}",
        campaign=campaign,
        show=show,
        # Each filter link keeps the image in view.
        filters=[
            {
                "name": name,
                "label": FILTER_LABELS[name],
                "count": counts[name],
                "url": _url(campaign.pk, image_id, show=name),
                "selected": name == show,
            }
            for name in REVIEW_FILTERS
        ],
        campaign_url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        csv_url=reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk]),
        media=model_admin.media,
    )
    if image_id is not None:
        context.update(_image_context(request, campaign.pk, image_id, show=show, total=counts[show]))
    return TemplateResponse(request, TEMPLATE, context)


def _image_context(request, campaign_id: int, image_id: int, *, show: str, total: int) -> dict:
    """The image, the boxes of the chosen revision, the revisions and the way to the neighbours in the filter."""
    row = review_image(campaign_id=campaign_id, image_id=image_id)
    if row is None:
        raise Http404("This image is not part of the campaign")
    revisions = campaign_image_revisions(row=row)
    chosen = _chosen_revision(request, row, revisions)
    image = row.image
    boxes = (
        [Box.of(box, image) for box in submission_boxes(row=row, submission_id=chosen)] if chosen is not None else []
    )
    place = review_place(row=row, show=show)
    shown_width, shown_height = image.display_size  # the browser turns the image by its EXIF orientation
    return {
        "row": row,
        "image": image,
        "image_url": _read_url(image),
        "shown_size": (shown_width, shown_height) if shown_width and shown_height else None,
        "stage": fit_size(shown_width, shown_height, box=STAGE_SIZE, max_scale=MAX_ENLARGE),
        "boxes": boxes,
        "legend": _legend(boxes),
        "revisions": [
            {
                "submission": submission,
                "objects": count,
                "current": submission.pk == row.current_submission_id,
                "selected": submission.pk == chosen,
                "url": _url(campaign_id, image_id, show=show, rev=_rev_param(row, submission)),
            }
            for submission, count in revisions
        ],
        "chosen": chosen,
        "showing_current": chosen == row.current_submission_id,
        "previous_url": _url(campaign_id, place.previous_id, show=show) if place.previous_id is not None else None,
        "next_url": _url(campaign_id, place.next_id, show=show) if place.next_id is not None else None,
        "position": place.position,
        "in_filter": place.position is not None,
        "total": total,
        "image_admin_url": reverse("admin:imagesets_image_change", args=[image.pk]),
        "history_url": reverse("admin:campaigns_campaignimage_change", args=[row.pk]),
    }


def _read_url(image) -> str:
    try:
        return image_read_url(image=image)
    except StorageError:
        return ""


def _legend(boxes: list[Box]) -> list[dict]:
    """Each label once, with its colour and how many boxes carry it, by label."""
    legend: dict[str, dict] = {}
    for box in boxes:
        legend.setdefault(box.label, {"label": box.label, "colour": box.colour, "count": 0})["count"] += 1
    return sorted(legend.values(), key=lambda item: item["label"])


def _rev_param(row: CampaignImage, submission: Submission) -> int | None:
    """``?rev=`` of a revision's link: none for the current one."""
    return None if submission.pk == row.current_submission_id else submission.pk


def _chosen_revision(request, row: CampaignImage, revisions) -> int | None:
    raw = request.GET.get("rev")
    if raw is None or raw == "":
        return row.current_submission_id
    chosen = parse_id(raw)
    if chosen is None or chosen not in {submission.pk for submission, _ in revisions}:
        raise Http404("No such revision of this image")
    return chosen
