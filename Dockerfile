# syntax=docker/dockerfile:1
# labelhub's one image: the role is the command (web, worker, webhooks, migrate,
# serve, manage ...; deploy/image/entrypoint.sh). Build it with `make image`
# (deploy/image/build.sh: podman or docker, version labels from git), or plainly:
#
#   docker build -t labelhub .
#
# The base is the official python:3.11-slim-bookworm image. Where no image
# registry can be reached, build.sh makes an equivalent base with debootstrap
# (Debian bookworm's python3 3.11, python3-venv, ca-certificates) and passes
# it as --build-arg BASE_IMAGE=localhost/labelhub-base:bookworm.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- builder: the virtualenv in /opt/venv, the application and its static files in /app
FROM ${BASE_IMAGE} AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /app

# Every requirement ships as a wheel (manylinux, x86_64 and arm64), so nothing is
# compiled and the builder needs no compilers. Should a new requirement need one,
# install it here (apt-get install -y gcc libc6-dev ...): this stage is thrown away.
#
# Only the "# Runtime" section of requirements.txt is installed (up to the
# "# Tests, lint and benchmarks" heading): no pytest, playwright, schemathesis ...
#
# pip's settings for a machine behind a TLS-intercepting proxy or with its own
# package index come in as build secrets (build.sh passes them: `pipconf`, a
# pip.conf, and `cacert`, the CA bundle); they are mounted for this RUN only
# and are in no layer of the image. Without them pip uses pypi.org directly.
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=secret,id=pipconf --mount=type=secret,id=cacert \
    set -eu; \
    if [ -s /run/secrets/pipconf ]; then export PIP_CONFIG_FILE=/run/secrets/pipconf; fi; \
    if [ -s /run/secrets/cacert ]; then export PIP_CERT=/run/secrets/cacert; fi; \
    awk '/^# Tests/ { exit } { print }' /tmp/requirements.txt > /tmp/requirements-runtime.txt; \
    python3 -m venv /opt/venv; \
    /opt/venv/bin/pip install --quiet --only-binary=:all: -r /tmp/requirements-runtime.txt; \
    /opt/venv/bin/pip uninstall --quiet --yes pip; \
    rm -f /tmp/requirements.txt /tmp/requirements-runtime.txt

COPY . /app
# Static files collected once, at build time, and served by WhiteNoise from STATIC_ROOT.
# The key only lets the settings load for this command; it is in no layer.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only DJANGO_DEBUG=0 \
    STATIC_ROOT=/app/staticfiles WHITENOISE_USE_FINDERS=0 \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /app/var \
    && find /app -name __pycache__ -prune -exec rm -rf {} + \
    && /opt/venv/bin/python -m compileall -q /app > /dev/null

# ---- the image: no compilers, no pip settings, a non-root user
FROM ${BASE_IMAGE}

RUN groupadd --gid 10001 labelhub \
    && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin labelhub \
    && mkdir -p /app/var \
    && chown labelhub:labelhub /app/var
COPY --from=builder /opt/venv /opt/venv
COPY --chmod=0755 deploy/image/entrypoint.sh /usr/local/bin/labelhub-entrypoint
# /app belongs to root (the code is read-only to the server); var/ is the one folder
# labelhub may write to when the root filesystem is writable: `serve` with its
# defaults (SQLite, local storage in var/media), or a volume mounted there.
COPY --from=builder /app /app
WORKDIR /app

# The only writable paths the processes need are under /tmp (a read-only root
# filesystem with a tmpfs or emptyDir on /tmp works): the Prometheus
# multiprocess folder and the file cache (used when REDIS_URL is unset).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_DEBUG=0 \
    WEB_BIND=0.0.0.0:8080 \
    STATIC_ROOT=/app/staticfiles \
    WHITENOISE_USE_FINDERS=0 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    CACHE_DIR=/tmp/cache

# Last, so that a new commit rebuilds nothing above.
ARG VERSION=dev
ARG GIT_COMMIT=unknown
ARG GIT_BRANCH=unknown
ARG BUILD_DATE=unknown
ARG SOURCE_URL=unknown
LABEL org.opencontainers.image.title="labelhub" \
      org.opencontainers.image.description="labelhub: image sets, labeling campaigns and label exports (web, worker, webhooks, migrate)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.ref.name="${GIT_BRANCH}" \
      labelhub.git.branch="${GIT_BRANCH}"
ENV LABELHUB_VERSION=${VERSION} \
    LABELHUB_REVISION=${GIT_COMMIT}

USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/labelhub-entrypoint"]
CMD ["web"]
