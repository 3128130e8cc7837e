"""What admin columns and pages show of jobs and images: a job or nothing, a progress bar, a fitted size."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import format_html
from django.utils.safestring import SafeString


def job_of(owner):
    """The background job of an image set or campaign (``owner.job``), or ``None`` before it first runs."""
    try:
        return owner.job
    except ObjectDoesNotExist:
        return None


def progress_bar(done: int, total: int) -> SafeString:
    """``done`` of ``total`` as a bar and as numbers (an empty total shows an empty bar, not a full one)."""
    return format_html(
        '<progress class="lh-progress" value="{}" max="{}"></progress> {}/{}', done, max(total, 1), done, total
    )


def fit_size(
    width: int | None, height: int | None, *, box: tuple[int, int], max_scale: float = 1
) -> tuple[int, int] | None:
    """The size an image is shown at, scaled into ``box`` (width, height) and enlarged at most ``max_scale`` times.

    Given to ``<img width height>`` so a page does not jump while images load;
    ``None`` when the image's dimensions are unknown.
    """
    if not width or not height:
        return None
    scale = min(box[0] / width, box[1] / height, max_scale)
    return max(1, round(width * scale)), max(1, round(height * scale))
