"""gunicorn settings for labelhub (``gunicorn -c labelhub/gunicorn_conf.py labelhub.wsgi``).

Threaded workers: each worker process serves ``WEB_THREADS`` requests at once
and holds its own PostgreSQL connection pool (``DATABASE_POOL_MAX_SIZE``), so
the server connections labelhub can open are bounded by
``WEB_WORKERS x DATABASE_POOL_MAX_SIZE`` (plus the job workers), whatever the
traffic. Every value comes from the environment; the defaults suit a small
machine. ``manage.py serve`` passes ``--bind`` itself.
"""

import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# A request that takes longer than this is cut off and its worker restarted.
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "5"))
keepalive = 5
# labelhub logs one line per request itself (labelhub.middleware), with its request id.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Tell clients and proxies the server's own name as little as possible.
proc_name = "labelhub-web"


def child_exit(server, worker):
    """Multiprocess metrics (core/metrics/): forget the live gauges of a worker that exited.

    Its counters and histograms stay in PROMETHEUS_MULTIPROC_DIR, so totals
    survive a worker restart.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# gunicorn's runtime control socket (one fixed path per user) is not used: several
# labelhub servers on one machine would fight over it.
control_socket_disable = True
