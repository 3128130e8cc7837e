#!/usr/bin/env bash
# Build labelhub's container image (the Dockerfile at the top of the repository).
#
#   deploy/image/build.sh                      # -> labelhub:latest (and labelhub:<version> from a clean tree)
#   IMAGE=labelhub:test deploy/image/build.sh  # another tag (the container test uses labelhub:test)
#
# Settings (environment):
#   ENGINE      podman or docker (default: podman if installed, else docker)
#   IMAGE       the tag to build (default labelhub:latest; labelhub:<version> is added)
#   BASE_IMAGE  the base image (default python:3.11-slim-bookworm when it can be
#               pulled; otherwise a Debian bookworm base made here with debootstrap,
#               localhost/labelhub-base:bookworm, built once and reused)
#   VERSION, GIT_COMMIT, GIT_BRANCH   default from git (VERSION: git describe, "-dirty" for local changes)
#   CONTAINERS_CONF  podman's engine settings; default deploy/image/containers.conf
#               (runc, host network, explicit ulimits: what a CI machine without
#               systemd needs) when runc is installed; set it empty for podman's own defaults
#   DEBIAN_MIRROR  debootstrap's mirror (default: the one apt uses on this machine)
#
# pip inside the build gets this machine's package index and CA bundle as build
# secrets (mounted for the install step only, in no layer of the image).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=deploy/image

started=$(date +%s)

ENGINE=${ENGINE:-$(command -v podman >/dev/null 2>&1 && echo podman || echo docker)}
IMAGE=${IMAGE:-labelhub:latest}
PYTHON_BASE=python:3.11-slim-bookworm
LOCAL_BASE=localhost/labelhub-base:bookworm

engine_args=()
if [ "$ENGINE" = podman ]; then
    if [ -z "${CONTAINERS_CONF+set}" ] && command -v runc >/dev/null 2>&1; then
        export CONTAINERS_CONF="$PWD/$HERE/containers.conf"
    fi
    if [ -n "${CONTAINERS_CONF:-}" ]; then
        # Build steps run like the containers: host network, limits this machine allows.
        engine_args+=(--network host --ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
    fi
fi
command -v "$ENGINE" >/dev/null 2>&1 || { echo "build.sh: no container engine ($ENGINE) installed" >&2; exit 2; }

git_or() { git "$@" 2>/dev/null || true; }
GIT_COMMIT=${GIT_COMMIT:-$(git_or rev-parse HEAD)}
GIT_COMMIT=${GIT_COMMIT:-unknown}
GIT_BRANCH=${GIT_BRANCH:-$(git_or rev-parse --abbrev-ref HEAD)}
GIT_BRANCH=${GIT_BRANCH:-unknown}
VERSION=${VERSION:-$(git_or describe --tags --always --dirty)}
VERSION=${VERSION:-dev}
SOURCE_URL=${SOURCE_URL:-$(git_or config --get remote.origin.url)}
SOURCE_URL=${SOURCE_URL:-unknown}
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

image_exists() {
    if [ "$ENGINE" = podman ]; then podman image exists "$1"; else docker image inspect "$1" >/dev/null 2>&1; fi
}

debian_mirror() {
    # The bookworm mirror apt uses here (it is reachable the way apt reaches it).
    local url
    url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v '^[[:space:]]*#' | grep -o -E 'https?://[^ ]+/debian/?' | grep -v -- '-security' | head -n 1 || true)
    echo "${url:-http://deb.debian.org/debian}"
}

build_local_base() {
    # Debian bookworm (as the python:3.11-slim-bookworm image is) with its python3 (3.11).
    command -v debootstrap >/dev/null 2>&1 || { echo "build.sh: $PYTHON_BASE cannot be pulled and debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }
    local mirror rootfs
    mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/labelhub-base.XXXXXX")
    trap 'rm -rf "$rootfs"' RETURN
    echo "build.sh: $PYTHON_BASE cannot be pulled; making $LOCAL_BASE with debootstrap from $mirror"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
    rm -f "$rootfs.log"
    # What the slim image leaves out too: package caches, documentation, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
    find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
    tar -C "$rootfs" --numeric-owner -c . | "$ENGINE" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$LOCAL_BASE" >/dev/null
}

if [ -z "${BASE_IMAGE:-}" ]; then
    if image_exists "$PYTHON_BASE" || timeout 120 "$ENGINE" pull -q "$PYTHON_BASE" >/dev/null 2>&1; then
        BASE_IMAGE=$PYTHON_BASE
    else
        image_exists "$LOCAL_BASE" || build_local_base
        BASE_IMAGE=$LOCAL_BASE
    fi
fi

# pip's index settings and CA bundle for the install step, as build secrets.
secrets_dir=$(mktemp -d "${TMPDIR:-/tmp}/labelhub-build.XXXXXX")
trap 'rm -rf "$secrets_dir"' EXIT
cacert=${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}
[ -f "$cacert" ] && cp "$cacert" "$secrets_dir/cacert" || : >"$secrets_dir/cacert"
pip_get() { python3 -m pip config get "$1" 2>/dev/null || true; }
index_url=${PIP_INDEX_URL:-$(pip_get global.index-url)}
{
    echo "[global]"
    # Only network indexes: a file:// index or find-links of this machine is not in the build.
    case "$index_url" in http://* | https://*) echo "index-url = $index_url" ;; esac
    for url in ${PIP_EXTRA_INDEX_URL:-$(pip_get global.extra-index-url)}; do
        case "$url" in http://* | https://*) echo "extra-index-url = $url" ;; esac
    done
    trusted=${PIP_TRUSTED_HOST:-$(pip_get global.trusted-host)}
    [ -n "$trusted" ] && echo "trusted-host = $trusted"
    echo "timeout = ${PIP_DEFAULT_TIMEOUT:-60}"
} >"$secrets_dir/pip.conf"

# A clean tree's build is also tagged with its version (a dirty tree's would pile up).
tags=(--tag "$IMAGE")
case "$VERSION" in
    *-dirty) ;;
    *) tags+=(--tag "${IMAGE%:*}:$(echo "$VERSION" | tr -c 'A-Za-z0-9_.\n-' '-')") ;;
esac
echo "build.sh: $ENGINE build ${tags[*]} from $BASE_IMAGE; version $VERSION, commit $GIT_COMMIT, branch $GIT_BRANCH"
build_started=$(date +%s)
"$ENGINE" build "${engine_args[@]}" \
    --file Dockerfile \
    "${tags[@]}" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --build-arg VERSION="$VERSION" \
    --build-arg GIT_COMMIT="$GIT_COMMIT" \
    --build-arg GIT_BRANCH="$GIT_BRANCH" \
    --build-arg BUILD_DATE="$BUILD_DATE" \
    --build-arg SOURCE_URL="$SOURCE_URL" \
    --secret id=pipconf,src="$secrets_dir/pip.conf" \
    --secret id=cacert,src="$secrets_dir/cacert" \
    ${BUILD_ARGS:-} \
    .
finished=$(date +%s)

size=$("$ENGINE" image inspect --format '{{.Size}}' "$IMAGE")
echo "build.sh: built $IMAGE: $((size / 1000000)) MB, image build $((finished - build_started)) s (with base: $((finished - started)) s)"
