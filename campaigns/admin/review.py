"""The review page: one campaign image with its objects drawn over it.

Staff check an agency's delivery here before finishing: the image (its
signed read URL, scaled by the browser) under an SVG of the boxes of the
current submission (or of an earlier one, switchable), label and confidence
on each box, one colour per label; previous/next image (buttons and arrow
keys) within a filter: all, unlabeled, labeled (with objects), labeled empty.
A page costs a fixed number of queries whatever the campaign's size.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns.models import BoundingBox, Campaign, CampaignImage, Submission
from imagesets.selectors import image_read_url
from labelhub.admin import admin_page_context, parse_id
from labelhub.storage import StorageError

# (value of ?show=, label); "labeled" and "empty" split the labeled images by whether they hold objects.
FILTERS = (
    ("all", "all"),
    ("unlabeled", "unlabeled"),
    ("labeled", "labeled"),
    ("empty", "labeled empty"),
)
FILTER_NAMES = {name for name, _ in FILTERS}

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
STAGE_WIDTH, STAGE_HEIGHT, MAX_ENLARGE = 960, 720, 4


def label_colour(label: str) -> str:
    return PALETTE[zlib.crc32(label.encode("utf-8")) % len(PALETTE)]


def _holds_current_objects():
    return Exists(
        BoundingBox.objects.filter(campaign_image_id=OuterRef("pk"), submission_id=OuterRef("current_submission_id"))
    )


def review_images(*, campaign_id: int, show: str) -> QuerySet[CampaignImage]:
    """The campaign's images in one review filter."""
    images = CampaignImage.objects.filter(campaign_id=campaign_id)
    if show == "unlabeled":
        return images.filter(labeled=False)
    if show == "labeled":
        return images.filter(_holds_current_objects(), labeled=True)
    if show == "empty":
        return images.filter(~_holds_current_objects(), labeled=True)
    return images


def review_counts(*, campaign_id: int) -> dict[str, int]:
    """How many images each filter holds, in one query."""
    counts = (
        CampaignImage.objects.filter(campaign_id=campaign_id)
        .annotate(holds_objects=_holds_current_objects())
        .aggregate(
            n_all=Count("pk"),
            n_unlabeled=Count("pk", filter=Q(labeled=False)),
            n_labeled=Count("pk", filter=Q(labeled=True, holds_objects=True)),
            n_empty=Count("pk", filter=Q(labeled=True, holds_objects=False)),
        )
    )
    return {name: counts[f"n_{name}"] or 0 for name in FILTER_NAMES}


@dataclass(frozen=True)
class Box:
    label: str
    label_original: str
    confidence: float | None
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    colour: str

    @property
    def width(self) -> int:
        return self.xmax - self.xmin

    @property
    def height(self) -> int:
        return self.ymax - self.ymin

    @property
    def caption(self) -> str:
        return self.label if self.confidence is None else f"{self.label} {self.confidence:.2f}"


def stage_size(width: int | None, height: int | None) -> tuple[int, int] | None:
    """The size the image is shown at: fitted into the stage, never enlarged more than ``MAX_ENLARGE`` times."""
    if not width or not height:
        return None
    scale = min(STAGE_WIDTH / width, STAGE_HEIGHT / height, MAX_ENLARGE)
    return max(1, round(width * scale)), max(1, round(height * scale))


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
    show = request.GET.get("show", "all")
    if show not in FILTER_NAMES:
        show = "all"
    images = review_images(campaign_id=campaign.pk, show=show)
    counts = review_counts(campaign_id=campaign.pk)
    context = admin_page_context(
        request,
        model_admin,
        title=f"Review {campaign.title}",
        campaign=campaign,
        show=show,
        filters=[
            {
                "name": name,
                "label": label,
                "count": counts[name],
                "url": _url(campaign.pk, image_id, show=name),
                "selected": name == show,
            }
            for name, label in FILTERS
        ],
        campaign_url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        csv_url=reverse("admin:campaigns_campaign_labels_csv", args=[campaign.pk]),
        media=model_admin.media,
    )

    if image_id is None:
        first = images.order_by("image_id").values_list("image_id", flat=True).first()
        if first is not None:
            return redirect(_url(campaign.pk, first, show=show))
        return TemplateResponse(request, "admin/campaigns/campaign/review.html", context)

    row = (
        CampaignImage.objects.select_related("image__imageset", "current_submission__user")
        .filter(campaign=campaign, image_id=image_id)
        .first()
    )
    if row is None:
        raise Http404("This image is not part of the campaign")
    # Each filter link keeps this image in view.
    for item in context["filters"]:
        item["url"] = _url(campaign.pk, image_id, show=item["name"])

    revisions = _revisions(row)
    chosen = _chosen_revision(request, row, revisions)
    objects = (
        list(BoundingBox.objects.filter(campaign_image=row, submission_id=chosen).order_by("position", "pk"))
        if chosen is not None
        else []
    )
    boxes = [
        Box(
            obj.label,
            obj.label_original,
            obj.confidence,
            obj.xmin,
            obj.ymin,
            obj.xmax,
            obj.ymax,
            label_colour(obj.label),
        )
        for obj in objects
    ]
    legend: dict[str, dict] = {}
    for box in boxes:
        legend.setdefault(box.label, {"label": box.label, "colour": box.colour, "count": 0})["count"] += 1

    previous_id = images.filter(image_id__lt=image_id).order_by("-image_id").values_list("image_id", flat=True).first()
    next_id = images.filter(image_id__gt=image_id).order_by("image_id").values_list("image_id", flat=True).first()
    in_filter = images.filter(pk=row.pk).exists()
    position = images.filter(image_id__lte=image_id).count() if in_filter else None

    image = row.image
    try:
        image_url = image_read_url(image=image)
    except StorageError:
        image_url = ""
    context.update(
        row=row,
        image=image,
        image_url=image_url,
        stage=stage_size(image.width, image.height),
        boxes=boxes,
        legend=sorted(legend.values(), key=lambda item: item["label"]),
        revisions=[
            {
                "submission": s,
                "objects": n,
                "current": s.pk == row.current_submission_id,
                "selected": s.pk == chosen,
                "url": _url(campaign.pk, image_id, show=show, rev=None if s.pk == row.current_submission_id else s.pk),
            }
            for s, n in revisions
        ],
        chosen=chosen,
        showing_current=chosen == row.current_submission_id,
        previous_url=_url(campaign.pk, previous_id, show=show) if previous_id is not None else None,
        next_url=_url(campaign.pk, next_id, show=show) if next_id is not None else None,
        position=position,
        in_filter=in_filter,
        total=counts[show],
        image_admin_url=reverse("admin:imagesets_image_change", args=[image.pk]),
        history_url=reverse("admin:campaigns_campaignimage_change", args=[row.pk]),
    )
    return TemplateResponse(request, "admin/campaigns/campaign/review.html", context)


def _revisions(row: CampaignImage) -> list[tuple[Submission, int]]:
    """Every submission that labeled this image (newest first) with its number of objects for it.

    A submission that labeled the image empty left no object; it is known
    only while it is the current one.
    """
    counts = dict(
        BoundingBox.objects.filter(campaign_image=row).order_by().values_list("submission_id").annotate(n=Count("pk"))
    )
    ids = set(counts)
    if row.current_submission_id is not None:
        ids.add(row.current_submission_id)
    if not ids:
        return []
    submissions = Submission.objects.filter(pk__in=ids).select_related("user").order_by("-pk")
    return [(submission, counts.get(submission.pk, 0)) for submission in submissions]


def _chosen_revision(request, row: CampaignImage, revisions) -> int | None:
    raw = request.GET.get("rev")
    if raw is None or raw == "":
        return row.current_submission_id
    chosen = parse_id(raw)
    if chosen is None or chosen not in {submission.pk for submission, _ in revisions}:
        raise Http404("No such revision of this image")
    return chosen
