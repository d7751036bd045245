#!/usr/bin/env bash
# Shared set-up for the benchmarks: a release build of Pier, a pierd and a dockerd (20.10, from
# Debian's docker.io) each on its own socket and root, so both are measured in one run.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
WORK="${BENCH_WORK:-/tmp/pier-bench}"
mkdir -p "$WORK"

need() { command -v "$1" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need hyperfine hyperfine
need dockerd docker.io
need jq jq

build_pier() {
    (cd "$REPO" && swift build -c release --static-swift-stdlib 2>&1 | tail -n 1)
    BIN="$(cd "$REPO" && swift build -c release --show-bin-path)"
    export PIER="$BIN/pier" PIERD="$BIN/pierd"
}

start_pierd() {
    export PIER_HOST="unix://$WORK/pier.sock" PIER_ROOT="$WORK/pier-root"
    "$PIERD" --host "$WORK/pier.sock" --data-root "$PIER_ROOT" --log-level "${PIERD_LOG_LEVEL:-warning}" >"$WORK/pierd.log" 2>&1 &
    echo $! >"$WORK/pierd.pid"
    for _ in $(seq 100); do [ -S "$WORK/pier.sock" ] && "$PIER" version >/dev/null 2>&1 && return; sleep 0.05; done
    echo "pierd did not start; see $WORK/pierd.log" >&2; exit 1
}

start_dockerd() {
    export DOCKER_BENCH_HOST="unix://$WORK/docker.sock"
    dockerd --data-root "$WORK/docker-root" --exec-root "$WORK/docker-exec" --pidfile "$WORK/docker.pid" \
        --host "$DOCKER_BENCH_HOST" --iptables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
    for _ in $(seq 200); do DOCKER_HOST="$DOCKER_BENCH_HOST" docker version >/dev/null 2>&1 && return; sleep 0.1; done
    echo "dockerd did not start; see $WORK/dockerd.log" >&2; exit 1
}

dockercli() { DOCKER_HOST="$DOCKER_BENCH_HOST" docker "$@"; }

stop_all() {
    [ -f "$WORK/pierd.pid" ] && kill "$(cat "$WORK/pierd.pid")" 2>/dev/null || true
    [ -f "$WORK/docker.pid" ] && kill "$(cat "$WORK/docker.pid")" 2>/dev/null || true
    sleep 1
}

machine() {
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")"
}

# The same busybox image in both engines: Pier makes it, Docker loads Pier's archive of it.
seed_busybox() {
    "$PIER" bootstrap busybox >/dev/null
    "$PIER" save -o "$WORK/busybox.tar" busybox
    dockercli load -i "$WORK/busybox.tar" >/dev/null
}

# Median in milliseconds from a hyperfine JSON export.
median_ms() { jq -r ".results[$2].median * 1000 | . * 10 | round / 10" "$1"; }
