"""What admin columns and pages show of jobs and images: a job or nothing, a progress bar, a fitted size, durations."""

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


def duration_text(seconds: float | None) -> str:
    """A duration as staff read it, not as seconds (``0.096595``).

    ``97 ms``, ``4.2 s``, ``40 s``, ``1 min 3 s``, ``2 h 5 min``, ``3 d 4 h``; ``—`` for none.
    """
    if seconds is None:
        return "—"
    seconds = max(float(seconds), 0.0)
    if round(seconds * 1000) < 1000:
        return f"{round(seconds * 1000)} ms"
    if round(seconds, 1) < 10:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def job_duration(job) -> str | None:
    """How long a finished job's last run took (``None`` while it runs or before it started)."""
    if job is None or job.date_started is None or job.date_done is None:
        return None
    return duration_text((job.date_done - job.date_started).total_seconds())
