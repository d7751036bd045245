#!/usr/bin/env bash
# `build` of a 4-step Dockerfile FROM busybox, cold (--no-cache) and fully cached: Pier against
# Docker's legacy builder (DOCKER_BUILDKIT=0), the same Dockerfile and context for both.
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT
# PIER_BIN=<dir with pier, pierd, pier-shim> measures an existing release build instead of making one.
if [ -n "${PIER_BIN:-}" ]; then export PIER="$PIER_BIN/pier" PIERD="$PIER_BIN/pierd"; else build_pier; fi
rm -rf "$WORK" && mkdir -p "$WORK"
start_pierd
start_dockerd
seed_busybox

CONTEXT="$WORK/context"
mkdir -p "$CONTEXT"
cat >"$CONTEXT/Dockerfile" <<'DOCKERFILE'
FROM busybox
RUN echo hello > /hello
COPY app.txt /app/
CMD ["cat", "/app/app.txt"]
DOCKERFILE
echo "app" >"$CONTEXT/app.txt"
legacy="env DOCKER_BUILDKIT=0 docker -H $DOCKER_BENCH_HOST build -q"

hyperfine -N --warmup 3 --runs 20 --export-json "$WORK/build-cold.json" \
    -n "pier build (cold)" "$PIER build -q --no-cache $CONTEXT" \
    -n "docker legacy build (cold)" "$legacy --no-cache $CONTEXT"
hyperfine -N --warmup 3 --runs 40 --export-json "$WORK/build-cached.json" \
    -n "pier build (cached)" "$PIER build -q $CONTEXT" \
    -n "docker legacy build (cached)" "$legacy $CONTEXT"

echo
echo "machine: $(machine)"
echo "4-step FROM busybox, cold:   pier $(median_ms "$WORK/build-cold.json" 0) ms, docker legacy $(median_ms "$WORK/build-cold.json" 1) ms"
echo "4-step FROM busybox, cached: pier $(median_ms "$WORK/build-cached.json" 0) ms, docker legacy $(median_ms "$WORK/build-cached.json" 1) ms"
