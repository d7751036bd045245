#!/usr/bin/env bash
# `images` with 1,000 images, `save` of busybox, `load` of an absent image, and idle daemon memory:
# Pier against Docker (dockerd 20.10) in one run. Writes a table for docs/benchmarks.md.
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT
build_pier
rm -rf "$WORK" && mkdir -p "$WORK"
start_pierd
start_dockerd
seed_busybox

echo "==> making 1,000 distinct images in each engine"
mkdir -p "$WORK/tiny"
for i in $(seq 1000); do
    echo "$i" >"$WORK/tiny/id"
    tar -C "$WORK/tiny" -cf "$WORK/tiny.tar" .
    "$PIER" import "$WORK/tiny.tar" "bench/tiny:$i" >/dev/null
    dockercli import "$WORK/tiny.tar" "bench/tiny:$i" >/dev/null
done

hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/images.json" \
    -n "pier images (1,000)" "$PIER images" \
    -n "docker images (1,000)" "docker -H $DOCKER_BENCH_HOST images"

hyperfine --warmup 3 --runs 30 --export-json "$WORK/save.json" \
    -n "pier save busybox" "$PIER save -o $WORK/p.tar busybox" \
    -n "docker save busybox" "docker -H $DOCKER_BENCH_HOST save -o $WORK/d.tar busybox"

hyperfine --warmup 3 --runs 30 --export-json "$WORK/load.json" \
    -n "pier load (absent image)" --prepare "$PIER rmi -f busybox >/dev/null 2>&1 || true" "$PIER load -i $WORK/busybox.tar" \
    -n "docker load (absent image)" --prepare "docker -H $DOCKER_BENCH_HOST rmi -f busybox >/dev/null 2>&1 || true" \
        "docker -H $DOCKER_BENCH_HOST load -i $WORK/busybox.tar"

sleep 3
pierd_rss=$(awk '/VmRSS/{print $2}' "/proc/$(cat "$WORK/pierd.pid")/status")
dockerd_rss=$(awk '/VmRSS/{print $2}' "/proc/$(cat "$WORK/docker.pid")/status")
containerd_rss=$(ps -C containerd -o rss= | awk '{s+=$1} END {print s+0}')

cat <<TABLE

Measured $(machine)

| what | Pier | Docker 20.10 | target |
|---|---|---|---|
| \`images\` with 1,000 images (median) | $(median_ms "$WORK/images.json" 0) ms | $(median_ms "$WORK/images.json" 1) ms | Pier < 20 ms |
| \`save\` busybox (median) | $(median_ms "$WORK/save.json" 0) ms | $(median_ms "$WORK/save.json" 1) ms | 2× faster than Docker |
| \`load\` of an absent image (median) | $(median_ms "$WORK/load.json" 0) ms | $(median_ms "$WORK/load.json" 1) ms | 2× faster than Docker |
| idle daemon RSS (after the runs above) | $(awk -v k="$pierd_rss" 'BEGIN { printf "%.1f", k / 1024 }') MB (pierd) | $((dockerd_rss / 1024)) MB dockerd + $((containerd_rss / 1024)) MB containerd | Pier < 30 MB |
TABLE
