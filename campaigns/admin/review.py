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

A workspace: the page fills the window without the admin's sidebar, the
image fitted beside a decision panel that stays in one place; one decision
per key press (``review.js`` ignores auto-repeat and locks after sending; the
form names the latest decision the page showed, so a second submit is
refused by ``reviews_decide`` and said so); ``U`` withdraws the reviewer's
latest decision (``review_withdraw``) for ``REVIEW_UNDO_SECONDS``. Colours
follow the campaign's label schema; the model's predictions are a layer of
their own. The image shown is its display copy (``imagesets.derived``), the
original a link away and loaded when zoomed in past the copy's detail; the
next image awaiting review is prefetched: its URL is the same on every page,
so the next page finds it in the browser's cache.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Actor
from campaigns.admin.agreement import walk_banner, walk_first, walk_place
from campaigns.admin.review_boxes import CROWDED, Box, abbreviations, compared, label_colours, legend
from campaigns.inputs import parse_review_item
from campaigns.models import LABEL_MAX_LENGTH, Campaign, CampaignImage, Review
from campaigns.selectors import (
    REVIEW_FILTERS,
    campaign_image_revisions,
    prediction_boxes,
    review_counts,
    review_first_image_id,
    review_image,
    review_labels,
    review_last_decision,
    review_next_pending,
    review_next_pending_images,
    review_place,
    submission_boxes,
)
from campaigns.services.reviews import REVIEWABLE, review_withdraw, reviews_decide
from core.admin import admin_page_context, parse_id
from core.exceptions import ApplicationError
from imagesets.derived import image_display_url, image_original_url

TEMPLATE = "admin/campaigns/campaign/review.html"
# Small images are enlarged at most this much to fit the window.
MAX_ENLARGE = 4
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
Decision = Review.Decision
NO_REASON = "A rejection needs a reason: pick one from the list or write what the agency should fix."


@dataclass(frozen=True)
class View:
    """What the page shows: the filter, the label filter and whether to compare with the previous revision."""

    show: str = "all"
    label: str | None = None
    sample: int | None = None  # only the images drawn into this acceptance sample
    compare: bool = False
    disagree_with: int | None = None  # walk the images this campaign and that one disagree on, lowest F1 first

    @classmethod
    def of(cls, request) -> View:
        show = request.GET.get("show", "all")
        label = request.GET.get("label") or None
        return cls(
            show=show if show in REVIEW_FILTERS else "all",
            label=label if label is None or len(label) <= LABEL_MAX_LENGTH else None,
            sample=parse_id(request.GET.get("sample", "")),
            compare=request.GET.get("compare") == "1",
            disagree_with=parse_id(request.GET.get("disagree_with", "")),
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
        if view.disagree_with is not None:
            query["disagree_with"] = view.disagree_with
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


def review_page(
    request, model_admin, *, campaign: Campaign, image_id: int | None, picker: dict | None = None
) -> TemplateResponse:
    """The review of one image of the campaign; without one, the first image of the filter (or an empty page).

    ``picker``: a refused rejection, shown again in the open reason picker (``error``, ``reason_code``, ``reason``).
    """
    view = View.of(request)
    if image_id is None and view.disagree_with is not None:
        first = walk_first(campaign_id=campaign.pk, other_id=view.disagree_with)
        if first is not None:
            return redirect(_url(campaign.pk, first, view))
        messages.info(request, f"This campaign and campaign {view.disagree_with} disagree on no image.")
        view = replace(view, disagree_with=None)
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
        is_nav_sidebar_enabled=False,  # a workspace: the image takes the room
        undo=_undoable(request, campaign, view),
        undo_seconds=settings.REVIEW_UNDO_SECONDS,
        picker=picker,
        no_reason=NO_REASON,
    )
    if image_id is not None:
        context.update(_image_context(request, campaign, image_id, view=view, total=counts[view.show], labels=labels))
    return TemplateResponse(request, TEMPLATE, context)


def _image_context(request, campaign: Campaign, image_id: int, *, view: View, total: int, labels: list[str]) -> dict:
    """The image, the boxes of the chosen revision, the revisions, the decision and the way to the neighbours."""
    campaign_id = campaign.pk
    row = review_image(campaign_id=campaign_id, image_id=image_id)
    if row is None:
        raise Http404("This image is not part of the campaign")
    revisions = campaign_image_revisions(row=row)
    chosen = _chosen_revision(request, row, revisions)
    image = row.image
    previous = _previous_revision(revisions, chosen)
    chosen_boxes = submission_boxes(row=row, submission_id=chosen) if chosen is not None else []
    previous_boxes = submission_boxes(row=row, submission_id=previous) if view.compare and previous is not None else []
    predicted = prediction_boxes(row=row)
    # Colours and abbreviations: the schema's labels, the campaign's, then any other this page shows.
    order = labels + [box.label for box in [*chosen_boxes, *previous_boxes, *predicted]]
    colours = label_colours(schema=campaign.labels, labels=order)
    short = abbreviations(colours)

    def drawn(stored) -> list[Box]:
        return [Box.of(box, image, colours=colours, short=short) for box in stored]

    boxes = drawn(chosen_boxes)
    removed, changes = [], {}
    if view.compare and previous is not None:
        boxes, removed, changes = compared(drawn(previous_boxes), boxes)
    walk = None
    if view.disagree_with is not None:  # the walk's order, not the filter's
        place = walk_place(campaign_id=campaign_id, other_id=view.disagree_with, image_id=image_id)
        total = place.total
        leave_url = _url(campaign_id, image_id, view, disagree_with=None)
        walk = walk_banner(other_id=view.disagree_with, image_id=image_id, place=place, leave_url=leave_url)
    else:
        place = review_place(row=row, show=view.show, **view.scope)
    # The next two awaiting review: pressing A quickly finds the next one's display copy made and in the cache.
    following = review_next_pending_images(campaign_id=campaign_id, after_image_id=image_id, sample_id=view.sample)
    next_pending = following[0] if following else None
    shown_width, shown_height = image.display_size  # the browser turns the image by its EXIF orientation
    shown_size = (shown_width, shown_height) if shown_width and shown_height else None
    showing_current = chosen == row.current_submission_id
    models = sorted({(box.submission.model_name, box.submission.model_version) for box in predicted})
    return {
        "row": row,
        "image": image,
        # The display copy (``IMAGE_DISPLAY_SIZE``), the original one click (or a deep zoom) away; both are pages of
        # the image admin redirecting to storage, the same URL on every page, so the prefetch fills the cache.
        "image_url": image_display_url(image=image),
        "original_url": image_original_url(image=image),
        "prefetch_urls": [image_display_url(image=upcoming) for upcoming in following],
        "shown_size": shown_size,
        "max_enlarge": MAX_ENLARGE,
        "boxes": [{"box": box, "at": box.at(shown_size)} for box in boxes],
        "removed_boxes": [{"box": box, "at": box.at(shown_size)} for box in removed],
        "predictions": drawn(predicted),
        "prediction_models": ", ".join(f"{name} {version}".strip() for name, version in models),
        "crowded": len(boxes) + len(removed) >= CROWDED,
        "changes": changes,
        "comparing": view.compare and previous is not None,
        "compare_url": _url(campaign_id, image_id, view, rev=_rev_param(row, chosen), compare=not view.compare),
        "can_compare": previous is not None,
        "legend": legend(boxes, order=colours),
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
        "seen_review": row.last_review_id or "",
        "can_review": (campaign.status in REVIEWABLE and row.current_submission_id is not None and showing_current),
        "decide_url": reverse("admin:campaigns_campaign_review_decide", args=[campaign_id, image_id]),
        "reason_codes": settings.REVIEW_REASON_CODES,
        "query": urlencode(view.query()),
        "next_pending_url": _url(campaign_id, next_pending.pk, view) if next_pending is not None else None,
        "previous_url": _url(campaign_id, place.previous_id, view) if place.previous_id is not None else None,
        "next_url": _url(campaign_id, place.next_id, view) if place.next_id is not None else None,
        "position": place.position,
        "in_filter": place.position is not None,
        "total": total,
        "walk": walk,
        "image_admin_url": reverse("admin:imagesets_image_change", args=[image.pk]),
        "history_url": reverse("admin:campaigns_campaignimage_change", args=[row.pk]),
    }


def _undoable(request, campaign: Campaign, view: View) -> dict | None:
    """The reviewer's latest decision in this campaign while it can still be withdrawn (``U``), or ``None``."""
    if campaign.status not in REVIEWABLE or not request.user.is_authenticated:
        return None
    window = timedelta(seconds=settings.REVIEW_UNDO_SECONDS)
    review = review_last_decision(campaign_id=campaign.pk, reviewer_id=request.user.pk, since=timezone.now() - window)
    if review is None:
        return None
    row = review.campaign_image
    if row.last_review_id != review.pk or row.current_submission_id != review.submission_id:
        return None  # decided again, or labeled again, since: nothing of the reviewer's to take back
    return {
        "review": review,
        "image_id": row.image_id,
        "url": reverse("admin:campaigns_campaign_review_decide", args=[campaign.pk, row.image_id]),
        "query": urlencode(view.query()),
        "until": int((review.date_created + window).timestamp() * 1000),  # epoch ms: the page hides it then
    }


def _previous_revision(revisions, chosen: int | None) -> int | None:
    """The revision before the chosen one (revisions are newest first)."""
    ids = [submission.pk for submission, _ in revisions]
    if chosen not in ids:
        return None
    index = ids.index(chosen)
    return ids[index + 1] if index + 1 < len(ids) else None


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


def _message(image_id: int, detail: str) -> str:
    """A refusal as staff read it: naming the image once."""
    return detail if detail.startswith(f"Image {image_id}") else f"Image {image_id}: {detail}"


def _rejection_problem(reason: str, reason_code: str) -> str | None:
    """What is wrong with a rejection's reason, in the picker's words (``None``: nothing)."""
    if not reason.strip() and not reason_code:
        return NO_REASON
    if reason_code and reason_code not in settings.REVIEW_REASON_CODES:
        return "Pick a reason from the list."
    if len(reason.strip()) > 2000:
        return "The explanation is too long: at most 2000 characters."
    return None


def review_decide(request, model_admin, *, campaign: Campaign, image_id: int):
    """POST from the review page: accept or reject the image's current revision, then on to the next one waiting.

    The form's fields are the API's item (``decision``, ``reason``,
    ``reason_code``, ``submission_id``: the revision shown), checked by the
    same parser, and ``seen_review`` (the latest decision the page showed, or
    empty). A rejection without a reason shows the page again with the reason
    picker open and what was typed; a decision made since the page was shown
    (a double submit) records nothing and says what was decided; any other
    refusal is an error message on the same image. ``action=withdraw`` (with
    ``review_id``) takes a decision back instead (``U``).
    """
    view = View.of(request)
    if request.POST.get("action") == "withdraw":
        return _withdraw(request, campaign=campaign, image_id=image_id, view=view)
    decision = request.POST.get("decision")
    reason = request.POST.get("reason") or ""
    reason_code = request.POST.get("reason_code") or ""
    if decision == Decision.REJECTED:
        problem = _rejection_problem(reason, reason_code)
        if problem is not None:
            picker = {"error": problem, "reason": reason, "reason_code": reason_code}
            return review_page(request, model_admin, campaign=campaign, image_id=image_id, picker=picker)
    seen = request.POST.get("seen_review")
    item = {
        "image_id": image_id,
        "decision": decision,
        "reason": reason or None,
        "reason_code": reason_code or None,
        "submission_id": parse_id(request.POST.get("submission_id", "")),
    }
    try:
        review = parse_review_item(0, item)
        reviews_decide(
            campaign_id=campaign.pk,
            reviews=[review],
            actor=Actor.of_request(request),
            seen_review_ids=None if seen is None else {image_id: parse_id(seen)},
        )
    except ApplicationError as exc:
        if exc.extra.get("decision") is not None and exc.extra.get("decision") == decision:
            # The same decision was already recorded (a second press or click): move on as the first one did.
            messages.warning(request, _message(image_id, exc.detail))
            return redirect(_following(campaign, image_id, view))
        messages.error(request, _message(image_id, exc.detail))
        return redirect(_url(campaign.pk, image_id, view))
    messages.success(request, f"Image {image_id} {review.decision}.")
    return redirect(_following(campaign, image_id, view))


def _following(campaign: Campaign, image_id: int, view: View) -> str:
    if view.disagree_with is not None:  # on along the walk
        place = walk_place(campaign_id=campaign.pk, other_id=view.disagree_with, image_id=image_id)
        return _url(campaign.pk, place.next_id if place.next_id is not None else image_id, view)
    following = review_next_pending(campaign_id=campaign.pk, after_image_id=image_id, sample_id=view.sample)
    return _url(campaign.pk, following if following is not None else image_id, view)


def _withdraw(request, *, campaign: Campaign, image_id: int, view: View):
    """Take back the reviewer's decision on this image (``U``), then show the image again."""
    try:
        row = review_withdraw(
            campaign_id=campaign.pk,
            image_id=image_id,
            review_id=parse_id(request.POST.get("review_id", "")),
            actor=Actor.of_request(request),
        )
    except ApplicationError as exc:
        messages.error(request, f"Nothing undone: {exc.detail}")
    else:
        state = CampaignImage._meta.get_field("review_state").choices
        label = dict(state).get(row.review_state, row.review_state).lower()
        messages.success(request, f"Your decision on image {image_id} was undone: it is {label} again.")
    return redirect(_url(campaign.pk, image_id, view))
