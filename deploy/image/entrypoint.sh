#!/bin/sh
# labelhub-entrypoint ROLE [ARGS...]: what one container of the labelhub image runs.
#
#   web               gunicorn only (labelhub/gunicorn_conf.py), on WEB_BIND (default 0.0.0.0:8080)
#   worker            the job cluster (python manage.py qcluster)
#   webhooks          the webhook-delivery cluster (Q_CLUSTER_NAME=<DJANGO_Q_NAME>-webhooks qcluster)
#   migrate           python manage.py migrate --noinput, then exit
#   serve             all in one: migrate, gunicorn and both clusters (python manage.py serve 0.0.0.0:8080)
#   manage ARGS...    python manage.py ARGS... (createapikey, finish_imageset, shell, ...)
#
# Every role execs its process, so it is PID 1 and gets SIGTERM itself:
# gunicorn finishes the requests in flight within WEB_GRACEFUL_TIMEOUT, a
# qcluster stops and a job it was running is resumed by the next worker's sweep.
# Configuration is the environment only (docs/configuration.md).
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

# The only writable places with a read-only root filesystem are under /tmp.
prepare_tmp() {
    if [ -n "${CACHE_DIR:-}" ]; then
        mkdir -p "$CACHE_DIR"
    fi
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
        # prometheus-client's multiprocess files of an earlier run of this container
        # (a restart keeps /tmp) would be summed with the new ones: start empty.
        # The folder belongs to this container; do not share it with another one.
        mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
        find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
    fi
}

case "$role" in
    web)
        prepare_tmp
        exec gunicorn -c labelhub/gunicorn_conf.py --bind "${WEB_BIND:-0.0.0.0:8080}" "$@" labelhub.wsgi
        ;;
    worker)
        prepare_tmp
        exec python manage.py qcluster "$@"
        ;;
    webhooks)
        prepare_tmp
        export Q_CLUSTER_NAME="${DJANGO_Q_NAME:-labelhub}-webhooks"
        exec python manage.py qcluster "$@"
        ;;
    migrate)
        exec python manage.py migrate --noinput "$@"
        ;;
    serve)
        prepare_tmp
        exec python manage.py serve "${WEB_BIND:-0.0.0.0:8080}" "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    -h | --help | help)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        echo "labelhub-entrypoint: unknown role '$role' (web, worker, webhooks, migrate, serve, manage ARGS...)" >&2
        exit 64
        ;;
esac
