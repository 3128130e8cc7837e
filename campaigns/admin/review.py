"""The review page: one campaign image with its boxes drawn over it, and the decision on it.

Staff check an agency's delivery here: the image (its signed read URL,
scaled and turned by its EXIF orientation by the browser) under an SVG of
the boxes (mapped from the file's pixel frame into the shown one) of the
current submission (or of an earlier one, switchable), each captioned with
its label and confidence on a chip of the label's colour, legible at any
image size; previous/next image (buttons and arrow keys) within a filter:
all, unlabeled, labeled (with boxes), labeled empty, awaiting review,
accepted, rejected, optionally only images holding a given label.

A work tool: ``A`` accepts the current revision, ``R`` opens the reason
picker of a rejection (Enter confirms), ``N`` goes to the next image
awaiting review; after a decision the page moves on to that image. "Compare
with the previous revision" draws the previous revision's boxes too, each
marked added, removed, moved or relabeled (``campaigns.matching``).
A page costs a fixed number of queries whatever the campaign's size
(the reads are ``campaigns.selectors``' ``review_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.audit import Actor
from campaigns.admin.review_boxes import Box, compared, legend
from campaigns.inputs import parse_review_item
from campaigns.models import LABEL_MAX_LENGTH, Campaign, CampaignImage
from campaigns.selectors import (
    REVIEW_FILTERS,
    campaign_image_revisions,
    review_counts,
    review_first_image_id,
    review_image,
    review_labels,
    review_next_pending,
    review_place,
    submission_boxes,
)
from campaigns.services.reviews import REVIEWABLE, reviews_decide
from core.admin import admin_page_context, fit_size, parse_id
from core.exceptions import ApplicationError
from imagesets.selectors import image_read_url
from integrations.storage import StorageError

TEMPLATE = "admin/campaigns/campaign/review.html"
# The image is shown at most this large, and small images are enlarged up to it (at most 4×).
STAGE_SIZE, MAX_ENLARGE = (960, 720), 4
# The label of each filter of ``REVIEW_FILTERS``; "labeled" and "empty" split the labeled images by whether they
# hold boxes.
FILTER_LABELS = {
    "all": "all",
    "unlabeled": "unlabeled",
    "labeled": "labeled",
    "empty": "labeled empty",
    "pending": "awaiting review",
    "accepted": "accepted",
    "rejected": "rejected",
}


@dataclass(frozen=True)
class View:
    """What the page shows: the filter, the label filter and whether to compare with the previous revision."""

    show: str = "all"
    label: str | None = None
    sample: int | None = None  # only the images drawn into this acceptance sample
    compare: bool = False

    @classmethod
    def of(cls, request) -> View:
        show = request.GET.get("show", "all")
        label = request.GET.get("label") or None
        return cls(
            show=show if show in REVIEW_FILTERS else "all",
            label=label if label is None or len(label) <= LABEL_MAX_LENGTH else None,
            sample=parse_id(request.GET.get("sample", "")),
            compare=request.GET.get("compare") == "1",
        )

    @property
    def scope(self) -> dict:
        return {"label": self.label, "sample_id": self.sample}

    def query(self, **changes) -> dict:
        view = replace(self, **changes)
        query = {}
        if view.show != "all":
            query["show"] = view.show
        if view.label is not None:
            query["label"] = view.label
        if view.sample is not None:
            query["sample"] = view.sample
        if view.compare:
            query["compare"] = "1"
        return query


def _url(campaign_id: int, image_id: int | None, view: View, *, rev: int | None = None, **changes) -> str:
    if image_id is None:
        base = reverse("admin:campaigns_campaign_review", args=[campaign_id])
    else:
        base = reverse("admin:campaigns_campaign_review_image", args=[campaign_id, image_id])
    query = view.query(**changes)
    if rev is not None:
        query["rev"] = rev
    return f"{base}?{urlencode(query)}" if query else base


def review_page(request, model_admin, *, campaign: Campaign, image_id: int | None) -> TemplateResponse:
    """The review of one image of the campaign; without one, the first image of the filter (or an empty page)."""
    view = View.of(request)
    if image_id is None:
        first = review_first_image_id(campaign_id=campaign.pk, show=view.show, **view.scope)
        if first is not None:
            return redirect(_url(campaign.pk, first, view))
    counts = review_counts(campaign_id=campaign.pk, **view.scope)
    labels = review_labels(campaign_id=campaign.pk)
    context = admin_page_context(
        request,
        model_admin,
        title=f"Review {campaign.title}",
        campaign=campaign,
        show=view.show,
        view=view,
        # Each filter link keeps the image in view.
        filters=[
            {
                "name": name,
                "label": FILTER_LABELS[name],
                "count": counts[name],
                "url": _url(campaign.pk, image_id, view, show=name),
                "selected": name == view.show,
            }
            for name in REVIEW_FILTERS
        ],
        labels=[
            {"label": label, "url": _url(campaign.pk, image_id, view, label=label), "selected": label == view.label}
            for label in labels
        ],
        any_label_url=_url(campaign.pk, image_id, view, label=None),
        all_images_url=_url(campaign.pk, image_id, view, sample=None),
        campaign_url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        csv_url=reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk]),
        media=model_admin.media,
    )
    if image_id is not None:
        context.update(_image_context(request, campaign, image_id, view=view, total=counts[view.show]))
    return TemplateResponse(request, TEMPLATE, context)


def _image_context(request, campaign: Campaign, image_id: int, *, view: View, total: int) -> dict:
    """The image, the boxes of the chosen revision, the revisions, the decision and the way to the neighbours."""
    campaign_id = campaign.pk
    row = review_image(campaign_id=campaign_id, image_id=image_id)
    if row is None:
        raise Http404("This image is not part of the campaign")
    revisions = campaign_image_revisions(row=row)
    chosen = _chosen_revision(request, row, revisions)
    image = row.image
    boxes = (
        [Box.of(box, image) for box in submission_boxes(row=row, submission_id=chosen)] if chosen is not None else []
    )
    previous = _previous_revision(revisions, chosen)
    removed, changes = [], {}
    if view.compare and previous is not None:
        before = [Box.of(box, image) for box in submission_boxes(row=row, submission_id=previous)]
        boxes, removed, changes = compared(before, boxes)
    place = review_place(row=row, show=view.show, **view.scope)
    next_pending = review_next_pending(campaign_id=campaign_id, after_image_id=image_id, sample_id=view.sample)
    shown_width, shown_height = image.display_size  # the browser turns the image by its EXIF orientation
    shown_size = (shown_width, shown_height) if shown_width and shown_height else None
    showing_current = chosen == row.current_submission_id
    return {
        "row": row,
        "image": image,
        "image_url": _read_url(image),
        "shown_size": shown_size,
        "stage": fit_size(shown_width, shown_height, box=STAGE_SIZE, max_scale=MAX_ENLARGE),
        "boxes": [{"box": box, "at": box.at(shown_size)} for box in boxes],
        "removed_boxes": [{"box": box, "at": box.at(shown_size)} for box in removed],
        "changes": changes,
        "comparing": view.compare and previous is not None,
        "compare_url": _url(campaign_id, image_id, view, rev=_rev_param(row, chosen), compare=not view.compare),
        "can_compare": previous is not None,
        "legend": legend(boxes),
        "revisions": [
            {
                "submission": submission,
                "objects": count,
                "current": submission.pk == row.current_submission_id,
                "selected": submission.pk == chosen,
                "url": _url(campaign_id, image_id, view, rev=_rev_param(row, submission.pk)),
            }
            for submission, count in revisions
        ],
        "chosen": chosen,
        "showing_current": showing_current,
        "review": row.current_review,
        "last_review": row.last_review,
        "can_review": (campaign.status in REVIEWABLE and row.current_submission_id is not None and showing_current),
        "decide_url": reverse("admin:campaigns_campaign_review_decide", args=[campaign_id, image_id]),
        "reason_codes": settings.REVIEW_REASON_CODES,
        "query": urlencode(view.query()),
        "next_pending_url": _url(campaign_id, next_pending, view) if next_pending is not None else None,
        "previous_url": _url(campaign_id, place.previous_id, view) if place.previous_id is not None else None,
        "next_url": _url(campaign_id, place.next_id, view) if place.next_id is not None else None,
        "position": place.position,
        "in_filter": place.position is not None,
        "total": total,
        "image_admin_url": reverse("admin:imagesets_image_change", args=[image.pk]),
        "history_url": reverse("admin:campaigns_campaignimage_change", args=[row.pk]),
    }


def _previous_revision(revisions, chosen: int | None) -> int | None:
    """The revision before the chosen one (revisions are newest first)."""
    ids = [submission.pk for submission, _ in revisions]
    if chosen not in ids:
        return None
    index = ids.index(chosen)
    return ids[index + 1] if index + 1 < len(ids) else None


def _read_url(image) -> str:
    try:
        return image_read_url(image=image)
    except StorageError:
        return ""


def _rev_param(row: CampaignImage, submission_id: int | None) -> int | None:
    """``?rev=`` of a revision's link: none for the current one."""
    return None if submission_id == row.current_submission_id else submission_id


def _chosen_revision(request, row: CampaignImage, revisions) -> int | None:
    raw = request.GET.get("rev")
    if raw is None or raw == "":
        return row.current_submission_id
    chosen = parse_id(raw)
    if chosen is None or chosen not in {submission.pk for submission, _ in revisions}:
        raise Http404("No such revision of this image")
    return chosen


def review_decide(request, model_admin, *, campaign: Campaign, image_id: int):
    """POST from the review page: accept or reject the image's current revision, then on to the next one waiting.

    The form's fields are the API's item (``decision``, ``reason``,
    ``reason_code``, ``submission_id``: the revision shown), checked by the
    same parser; a refusal (the API's 4xx) is an error message on the same image.
    """
    view = View.of(request)
    item = {
        "image_id": image_id,
        "decision": request.POST.get("decision"),
        "reason": request.POST.get("reason") or None,
        "reason_code": request.POST.get("reason_code") or None,
        "submission_id": parse_id(request.POST.get("submission_id", "")),
    }
    try:
        review = parse_review_item(0, item)
        reviews_decide(campaign_id=campaign.pk, reviews=[review], actor=Actor.of_request(request))
    except ApplicationError as exc:
        messages.error(request, f"Image {image_id}: {exc.detail}")
        return redirect(_url(campaign.pk, image_id, view))
    messages.success(request, f"Image {image_id} {review.decision}.")
    following = review_next_pending(campaign_id=campaign.pk, after_image_id=image_id, sample_id=view.sample)
    return redirect(_url(campaign.pk, following if following is not None else image_id, view))
