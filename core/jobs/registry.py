"""The kinds of background job: apps register theirs from their ``AppConfig``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import error_reports

if TYPE_CHECKING:
    from core.jobs.models import Job  # the models look kinds up here


@dataclass(frozen=True)
class JobKind:
    """One kind of background job: its row model, the row's owner and its django-q2 task."""

    name: str  # "imageset_finish", also the metrics label
    model: type[Job]
    owner_field: str  # the job row's foreign key to what it works on, e.g. "imageset_id"
    task: str  # dotted path of the django-q2 entry point; called with the owner's id
    # Called with the job when its outcome (succeeded or failed) is stored, in the same
    # transaction: where the owning app records its webhook event.
    on_outcome: Callable[[Job], None] | None = None

    def task_name(self, owner_id: int) -> str:
        return f"{self.name}-{owner_id}"


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    _KINDS[kind.name] = kind
    error_reports.job_name_register(kind.name)
    return kind


def kinds() -> list[JobKind]:
    return list(_KINDS.values())


def kind_of(job: Job) -> JobKind:
    for kind in _KINDS.values():
        if isinstance(job, kind.model):
            return kind
    raise LookupError(f"{type(job).__name__} is not a registered kind of job")


def announce_outcome(job: Job) -> None:
    """Tell the job's kind that ``job`` ended (``JobKind.on_outcome``); nothing for an unregistered model."""
    kind = next((k for k in _KINDS.values() if isinstance(job, k.model)), None)
    if kind is not None and kind.on_outcome is not None:
        kind.on_outcome(job)


def kind_named(name: str) -> JobKind:
    return _KINDS[name]
