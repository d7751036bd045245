#!/usr/bin/env bash
# `build` of a 4-step Dockerfile FROM busybox, cold (--no-cache) and fully cached, the same cached
# over a 256 MiB layer, and of a 1 GiB context that .dockerignore mostly excludes: Pier against Docker's legacy builder
# (DOCKER_BUILDKIT=0), the same Dockerfile and context for both.
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

# A 1 GiB context whose .dockerignore leaves out nearly all of it (datasets, checkpoints, a venv):
# what is excluded must not be read, and excluded directories not even walked (no `!` pattern
# could bring anything below them back). Target: sent and built in well under a second.
BIG="$WORK/big-context"
rm -rf "$BIG" && mkdir -p "$BIG/data/raw" "$BIG/checkpoints" "$BIG/src"
for i in $(seq 1 1000); do fallocate -l 1M "$BIG/data/raw/part-$i.bin"; done
for i in 1 2; do fallocate -l 12M "$BIG/checkpoints/epoch-$i.pt"; done
mkdir -p "$BIG/.venv/lib" && for i in $(seq 1 2000); do echo "x = $i" >"$BIG/.venv/lib/mod$i.py"; done
echo 'print("train")' >"$BIG/src/train.py"
printf 'data\ncheckpoints\n.venv\n*.log\n' >"$BIG/.dockerignore"
printf 'FROM busybox\nCOPY src /app/src\nCMD ["cat", "/app/src/train.py"]\n' >"$BIG/Dockerfile"
echo "big context: $(du -sh --apparent-size "$BIG" | cut -f1), sent: $(cd "$BIG" && du -ch --apparent-size src Dockerfile .dockerignore | tail -n 1 | cut -f1)"
hyperfine -N --warmup 2 --runs 20 --export-json "$WORK/build-big.json" \
    -n "pier build (1 GiB context, mostly ignored)" "$PIER build -q $BIG" \
    -n "docker legacy build (1 GiB context, mostly ignored)" "$legacy $BIG"

# The same cached build over a 256 MiB layer: a cache hit checks that the layer is still there, and
# reads none of it, so the cached time must not grow with the layers the steps made.
HEAVY="$WORK/heavy-context"
mkdir -p "$HEAVY" && echo "app" >"$HEAVY/app.txt"
printf 'FROM busybox\nRUN head -c 268435456 /dev/urandom > /weights.bin\nCOPY app.txt /app/\nCMD ["cat", "/app/app.txt"]\n' \
    >"$HEAVY/Dockerfile"
"$PIER" build -q "$HEAVY" >/dev/null
$legacy "$HEAVY" >/dev/null
hyperfine -N --warmup 3 --runs 40 --export-json "$WORK/build-heavy.json" \
    -n "pier build (cached, 256 MiB layer)" "$PIER build -q $HEAVY" \
    -n "docker legacy build (cached, 256 MiB layer)" "$legacy $HEAVY"

echo
echo "machine: $(machine)"
echo "4-step FROM busybox, cold:   pier $(median_ms "$WORK/build-cold.json" 0) ms, docker legacy $(median_ms "$WORK/build-cold.json" 1) ms"
echo "4-step FROM busybox, cached: pier $(median_ms "$WORK/build-cached.json" 0) ms, docker legacy $(median_ms "$WORK/build-cached.json" 1) ms"
echo "1 GiB context, mostly ignored, cached: pier $(median_ms "$WORK/build-big.json" 0) ms, docker legacy $(median_ms "$WORK/build-big.json" 1) ms"
echo "4-step with a 256 MiB layer, cached: pier $(median_ms "$WORK/build-heavy.json" 0) ms, docker legacy $(median_ms "$WORK/build-heavy.json" 1) ms"
