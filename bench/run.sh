#!/usr/bin/env bash
# `run --rm busybox true` end to end: Pier, Docker (dockerd 20.10), podman, runc and crun on a
# prepared bundle, in one run; plus the per-container monitor's memory and `ps -a` with 1,000 containers.
source "$(dirname "$0")/lib.sh"
need podman podman
need runc runc
need umoci umoci
need skopeo skopeo
trap 'stop_all; rm -rf "$WORK/podman"' EXIT
build_pier
rm -rf "$WORK" && mkdir -p "$WORK"
start_pierd
start_dockerd
seed_busybox

# podman with its own storage; runc/crun with an OCI bundle unpacked from the same image.
PODMAN="podman --root $WORK/podman/root --runroot $WORK/podman/run --storage-driver vfs --cgroup-manager cgroupfs --events-backend none"
$PODMAN load -i "$WORK/busybox.tar" >/dev/null
skopeo copy -q "docker-archive:$WORK/busybox.tar" "oci:$WORK/layout:latest"
umoci unpack --image "$WORK/layout:latest" "$WORK/bundle" >/dev/null
jq '.process.terminal=false | .process.args=["true"]' "$WORK/bundle/config.json" >"$WORK/bundle/config.tmp"
mv "$WORK/bundle/config.tmp" "$WORK/bundle/config.json"

hyperfine -N -i --warmup 5 --runs 40 --export-json "$WORK/run.json" \
    -n "pier run --rm busybox true" "$PIER run --rm --network none busybox true" \
    -n "docker run --rm busybox true" "docker -H $DOCKER_BENCH_HOST run --rm --network none busybox true" \
    -n "podman run --rm busybox true" "$PODMAN run --rm --network none busybox true" \
    -n "runc run (bundle)" "unshare -m runc run --bundle $WORK/bundle bench-runc" || true

# The monitor of a running container.
"$PIER" run -d --name rss busybox sleep 60 >/dev/null
sleep 0.5
shim_pid=$(cat "$PIER_ROOT/containers/$("$PIER" inspect -f '{{.Id}}' rss)/shim.pid")
shim_rss=$(awk '/VmRSS/{print $2}' "/proc/$shim_pid/status")
"$PIER" rm -f rss >/dev/null

echo "==> 1,000 containers"
for i in $(seq 1000); do "$PIER" create --name "c$i" busybox true >/dev/null; done
hyperfine -N --warmup 5 --runs 40 --export-json "$WORK/ps.json" -n "pier ps -a (1,000)" "$PIER ps -a"
"$PIER" rm $("$PIER" ps -aq) >/dev/null

cat <<TABLE

Measured $(machine)

| what | median |
|---|---|
| \`pier run --rm busybox true\` | $(median_ms "$WORK/run.json" 0) ms |
| \`docker run --rm busybox true\` (dockerd 20.10) | $(median_ms "$WORK/run.json" 1) ms |
| \`podman run --rm busybox true\` | $(median_ms "$WORK/run.json" 2) ms |
| \`runc run\` of a prepared bundle | $(median_ms "$WORK/run.json" 3) ms |
| \`pier ps -a\` with 1,000 containers | $(median_ms "$WORK/ps.json" 0) ms |
| per-container monitor (pier-shim) RSS | $shim_rss kB |
TABLE
