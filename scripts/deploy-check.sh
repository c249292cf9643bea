#!/usr/bin/env bash
# make deploy-check (CI calls it from .ci/run after the tests): build the image and check
# it and the Compose files on a Docker engine of this script's own, host networking only.
#
#   1. installs docker.io and debootstrap when missing (apt), and the `deploy` extra
#      (hadolint, Compose v2) into .venv;
#   2. starts dockerd with its own data-root, exec-root and socket under DEPLOY_DOCKER_DIR
#      (default /tmp/vet-docker), with no bridge, no iptables, no forwarding, no masquerade,
#      unless one already answers there; it stops the one it started when done;
#   3. makes the base image local/debian:bookworm once (debootstrap | docker import; kept in
#      the data-root), builds the wheelhouse and the image (make image);
#   4. runs tests/deploy (marker `deploy`; without DEPLOY_IMAGE they skip, so `make test`
#      passes where there is no Docker).
# The tests use a vhost, broker logins and a database of their own and remove them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'deploy-check: %s\n' "$*"; }
die() { printf 'deploy-check: %s\n' "$*" >&2; exit 1; }

DOCKER_DIR=${DEPLOY_DOCKER_DIR:-/tmp/vet-docker}
BASE_IMAGE=${DEPLOY_BASE_IMAGE:-local/debian:bookworm}
IMAGE=${DEPLOY_IMAGE:-veteran-services:deploy-check}
began=$SECONDS

# ---- tools
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    log "installing docker.io and debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq docker.io debootstrap >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq docker.io debootstrap >/dev/null; }
fi
command -v docker >/dev/null || die "no docker client (docker.io brings one)"
.venv/bin/pip install --quiet -c requirements.lock -e ".[test,deploy]"
export PATH=$PWD/.venv/bin:$PATH

# Compose v2 as a CLI plugin of a config dir of our own (the user's ~/.docker untouched).
export DOCKER_CONFIG=$DOCKER_DIR/config
mkdir -p "$DOCKER_CONFIG/cli-plugins"
compose=$(.venv/bin/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
ln -sf "$compose" "$DOCKER_CONFIG/cli-plugins/docker-compose"

# ---- the engine
export DOCKER_HOST=unix://$DOCKER_DIR/docker.sock
started_pid=
stop_engine() {
    if [[ -n $started_pid ]]; then
        log "stopping the dockerd it started (pid $started_pid)"
        kill -TERM "$started_pid" 2>/dev/null || true
        for _ in {1..100}; do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.1; done
    fi
}
trap stop_engine EXIT
if ! docker version >/dev/null 2>&1; then
    log "starting dockerd (data under $DOCKER_DIR, log $DOCKER_DIR/dockerd.log)"
    mkdir -p "$DOCKER_DIR"
    # The network rule (docs/deploy.md): no bridge, no NAT; containers use the host's network.
    dockerd --data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
        -H "$DOCKER_HOST" --pidfile "$DOCKER_DIR/dockerd.pid" \
        --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
        </dev/null >>"$DOCKER_DIR/dockerd.log" 2>&1 &
    started_pid=$!
    for _ in {1..100}; do docker version >/dev/null 2>&1 && break; sleep 0.2; done
    docker version >/dev/null 2>&1 || die "dockerd did not answer (see $DOCKER_DIR/dockerd.log)"
fi

# ---- the base image (once: no registry is reachable here)
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    [[ $BASE_IMAGE == local/debian:bookworm ]] || die "no image $BASE_IMAGE"
    log "making $BASE_IMAGE with debootstrap"
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/vet-rootfs.XXXXXX")
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$DOCKER_DIR/debootstrap.log" 2>&1 \
        || { rm -rf "$rootfs"; die "debootstrap failed (see $DOCKER_DIR/debootstrap.log)"; }
    tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
fi

# ---- wheelhouse and image
log "building $IMAGE from $BASE_IMAGE (log $DOCKER_DIR/build.log)"
build_began=$SECONDS
previous=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
make --no-print-directory image BASE_IMAGE="$BASE_IMAGE" IMAGE="$IMAGE" >"$DOCKER_DIR/build.log" 2>&1 \
    || { tail -n 30 "$DOCKER_DIR/build.log" >&2; die "make image failed"; }
# The previous image of that tag, untagged now. (Not `image prune`: it would drop the build
# stage's layers, which are the cache of the next build.)
if [[ -n $previous && $previous != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
fi
log "built in $((SECONDS - build_began)) s: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"

# ---- the checks
export DEPLOY_IMAGE=$IMAGE DEPLOY_BASE_IMAGE=$BASE_IMAGE DEPLOY_BUILD_LOG=$DOCKER_DIR/build.log
set +e
.venv/bin/python -m pytest tests/deploy -m deploy -p no:cacheprovider </dev/null
status=$?
set -e
log "done in $((SECONDS - began)) s"
exit "$status"
