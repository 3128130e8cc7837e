"""Background jobs: their stored state and the one lifecycle both jobs share.

The job row is the source of truth (an outbox): a status change that starts
a job commits it as ``queued`` in its own transaction and hands it to the
django-q2 broker only after the commit (``job_enqueue``). If the broker is
down the row simply stays queued, and the sweep hands it over again later,
so a request never fails because of the broker and no job is lost.

A queued task calls ``job_run``, which claims the row under a lock (a second
delivery of the same task does nothing), counts the attempt, runs the job's
body with a heartbeat, and stores the outcome. A worker that dies (SIGKILL,
the OOM killer, a deploy, django-q2's timeout) leaves its job ``running``;
``job_sweep`` finds it, by its process being gone on this host or by its
heartbeat going stale (``JOBS_STALE_AFTER``), and queues it again, until
``JOBS_MAX_ATTEMPTS`` attempts have been made, after which the job is
``failed`` with a clear error and the retry paths accept it. The bodies are
idempotent, so running one again is always safe.

A run that was not dead but stalled (a frozen host, a network partition)
may come back after another run took its job over. Each claim gives the row
a new ``run_token``, and every write a run makes (progress, the kind's own
rows, the outcome with its webhook event) is an UPDATE filtered on it or is
made under a lock of the row still naming it; the sweep and a retry clear
it. A fenced run writes nothing and stops (``JobFenced``, caught by
``job_run``). The one thing it may still finish is the storage request in
flight when it stalled, which writes what the other run wrote too.

Every django-q2 worker process sweeps when it starts (so a worker that
replaces a killed one recovers its job at once) and then every
``JOBS_SWEEP_INTERVAL`` seconds from a thread of its own.

Apps register their kind of job (``register``) from their ``AppConfig``;
this package never imports them (apps depend one way: on ``core``).

Modules: ``models`` (the abstract ``Job`` row), ``registry`` (kinds of job),
``queue`` (hand-over to the broker), ``run`` (claim, heartbeat, outcome),
``sweep`` (recovery), ``workers`` (which process runs a job). Every public
name is imported from ``core.jobs``.
"""

from core.jobs.models import Job, JobFenced, JobStatus
from core.jobs.queue import job_enqueue, job_send
from core.jobs.registry import JobKind, kind_named, kind_of, kinds, register
from core.jobs.run import job_run
from core.jobs.sweep import job_sweep, start_sweeper
from core.jobs.workers import this_worker, worker_is_dead

__all__ = [
    "Job",
    "JobFenced",
    "JobKind",
    "JobStatus",
    "job_enqueue",
    "job_run",
    "job_send",
    "job_sweep",
    "kind_named",
    "kind_of",
    "kinds",
    "register",
    "start_sweeper",
    "this_worker",
    "worker_is_dead",
]
