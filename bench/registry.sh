#!/usr/bin/env bash
# Push and pull of one image with one 50 MB layer over loopback, in one run: Pier against dockerd
# (20.10, Debian's docker.io), podman and skopeo, all to and from the CNCF registry (Debian's
# docker-registry 2.8); and Pier's own registry serving the same pull as the CNCF registry does.
# Prints a table for docs/benchmarks.md.
#
#   bench/registry.sh                 release build of Pier (as lib.sh does), then the runs
#   PIER_BIN=DIR bench/registry.sh    use pier, pierd and pier-registry already built in DIR
#   RUNS=N                            runs per command (default 10)
#
# The layer is 50 MB of random bytes: what compression cannot shrink, so every tool moves the
# same 50 MB. Each timed command starts from the state it needs (--prepare, not timed): an
# empty registry for pushes, no copy of the layer in the engine for pulls.
BENCH_WORK="${BENCH_WORK:-/tmp/pier-bench-registry}"
source "$(dirname "$0")/lib.sh"
need skopeo skopeo
need podman podman
need docker-registry docker-registry
RUNS="${RUNS:-10}"

cleanup() {
    for pidfile in "$WORK/cncf.pid" "$WORK/pier-registry.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    stop_all
    [ -d "$WORK/podman" ] && $PODMAN system reset --force >/dev/null 2>&1 || true
}
PODMAN="podman --root $WORK/podman/root --runroot $WORK/podman/run --storage-driver vfs --cgroup-manager cgroupfs --events-backend none"
trap cleanup EXIT

if [ -n "${PIER_BIN:-}" ]; then
    export PIER="$PIER_BIN/pier" PIERD="$PIER_BIN/pierd"
else
    build_pier
fi
rm -rf "$WORK" && mkdir -p "$WORK"
start_pierd
start_dockerd

echo "==> the image: one layer of 50 MB"
mkdir -p "$WORK/rootfs"
head -c 52428800 /dev/urandom >"$WORK/rootfs/data"
tar -C "$WORK/rootfs" -cf "$WORK/layer.tar" .
"$PIER" import "$WORK/layer.tar" bench/fifty:1 >/dev/null
"$PIER" save -o "$WORK/fifty.tar" bench/fifty:1
dockercli load -i "$WORK/fifty.tar" >/dev/null
$PODMAN load -i "$WORK/fifty.tar" >/dev/null
skopeo copy -q --dest-compress "docker-archive:$WORK/fifty.tar" "oci:$WORK/layout:fifty"

echo "==> registries"
CNCF_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/cncf.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/cncf
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$CNCF_PORT
YAML
docker-registry serve "$WORK/cncf.yml" >"$WORK/cncf.log" 2>&1 &
echo $! >"$WORK/cncf.pid"
"$PIER" registry serve --addr 127.0.0.1:0 --storage "$WORK/pier-registry" --log-level error >"$WORK/pier-registry.out" 2>&1 &
echo $! >"$WORK/pier-registry.pid"
for _ in $(seq 100); do grep -q listening "$WORK/pier-registry.out" 2>/dev/null && curl -sf "http://127.0.0.1:$CNCF_PORT/v2/" >/dev/null && break; sleep 0.1; done
CNCF="127.0.0.1:$CNCF_PORT"
PIEREG="$(sed -n 's|.*listening on http://\([^ ]*\) .*|\1|p' "$WORK/pier-registry.out")"
[ -n "$PIEREG" ] || { echo "pier registry serve did not start: $(cat "$WORK/pier-registry.out")" >&2; exit 1; }
EMPTY_CNCF="rm -rf $WORK/cncf/docker"

# Pier's uncompressed layer is gzipped on push, and the gzip is kept: `cold` is a fresh import
# each time (compress and upload), `warm` was pushed once before (upload only).
pier_fresh_cold() {
    echo "$EMPTY_CNCF; id=\$($PIER images -q --no-trunc $CNCF/pier:cold); [ -z \"\$id\" ] || $PIER rmi -f \$id >/dev/null; $PIER import $WORK/layer.tar $CNCF/pier:cold >/dev/null"
}
# (Its own random layer: sharing the cold image's layer would share the kept gzip too.)
mkdir -p "$WORK/rootfs-warm"
head -c 52428800 /dev/urandom >"$WORK/rootfs-warm/data"
tar -C "$WORK/rootfs-warm" -cf "$WORK/layer-warm.tar" .
"$PIER" import "$WORK/layer-warm.tar" "$CNCF/pier:warm" >/dev/null
"$PIER" push "$CNCF/pier:warm" >/dev/null
dockercli tag bench/fifty:1 "$CNCF/docker:1"
$PODMAN tag bench/fifty:1 "$CNCF/podman:1"

echo "==> push"
hyperfine --runs "$RUNS" --export-json "$WORK/push.json" \
    -n "pier push (gzips)" --prepare "$(pier_fresh_cold)" "$PIER push $CNCF/pier:cold" \
    -n "pier push (gzip kept)" --prepare "$EMPTY_CNCF" "$PIER push $CNCF/pier:warm" \
    -n "docker push" --prepare "$EMPTY_CNCF" "docker -H $DOCKER_BENCH_HOST push $CNCF/docker:1" \
    -n "podman push" --prepare "$EMPTY_CNCF" "$PODMAN push -q --tls-verify=false $CNCF/podman:1" \
    -n "skopeo copy (gzipped layout)" --prepare "$EMPTY_CNCF" \
        "skopeo copy -q --dest-tls-verify=false oci:$WORK/layout:fifty docker://$CNCF/skopeo:1"

# The same push with a layer gzip can shrink (50 MB of /usr/lib): compression is the cost now.
mkdir -p "$WORK/usr"
tar -C /usr -cf - lib 2>/dev/null | head -c 52428800 >"$WORK/usr/data" || true
tar -C "$WORK/usr" -cf "$WORK/usr.tar" .
"$PIER" import "$WORK/usr.tar" bench/usr:1 >/dev/null
"$PIER" save -o "$WORK/usr-image.tar" bench/usr:1
dockercli load -i "$WORK/usr-image.tar" >/dev/null
dockercli tag bench/usr:1 "$CNCF/docker-usr:1"
pier_fresh_usr() {
    echo "$EMPTY_CNCF; id=\$($PIER images -q --no-trunc $CNCF/pier-usr:1); [ -z \"\$id\" ] || $PIER rmi -f \$id >/dev/null; $PIER import $WORK/usr.tar $CNCF/pier-usr:1 >/dev/null"
}
hyperfine --runs "$RUNS" --export-json "$WORK/push-usr.json" \
    -n "pier push (gzips, compressible)" --prepare "$(pier_fresh_usr)" "$PIER push $CNCF/pier-usr:1" \
    -n "docker push (compressible)" --prepare "$EMPTY_CNCF" "docker -H $DOCKER_BENCH_HOST push $CNCF/docker-usr:1"

echo "==> pull"
# Both registries serve the same bytes; no engine keeps a copy of the layer between runs.
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:fifty" "docker://$CNCF/fifty:1"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:fifty" "docker://$PIEREG/fifty:1"
for id in $("$PIER" images -q --no-trunc | sort -u); do "$PIER" rmi -f "$id" >/dev/null; done
dockercli rmi -f $(dockercli images -q | sort -u) >/dev/null 2>&1 || true
$PODMAN rmi -a -f >/dev/null 2>&1 || true
PIER_CLEAN="for id in \$($PIER images -q --no-trunc | sort -u); do $PIER rmi -f \$id >/dev/null; done"
hyperfine --runs "$RUNS" --export-json "$WORK/pull.json" \
    -n "pier pull (CNCF registry)" --prepare "$PIER_CLEAN" "$PIER pull -q $CNCF/fifty:1" \
    -n "pier pull (Pier's registry)" --prepare "$PIER_CLEAN" "$PIER pull -q $PIEREG/fifty:1" \
    -n "docker pull" --prepare "docker -H $DOCKER_BENCH_HOST rmi -f $CNCF/fifty:1 >/dev/null 2>&1 || true" \
        "docker -H $DOCKER_BENCH_HOST pull -q $CNCF/fifty:1" \
    -n "podman pull" --prepare "$PODMAN rmi -a -f >/dev/null 2>&1 || true" "$PODMAN pull -q --tls-verify=false $CNCF/fifty:1" \
    -n "skopeo copy (CNCF registry)" --prepare "rm -rf $WORK/pulled" \
        "skopeo copy -q --src-tls-verify=false docker://$CNCF/fifty:1 oci:$WORK/pulled:x" \
    -n "skopeo copy (Pier's registry)" --prepare "rm -rf $WORK/pulled" \
        "skopeo copy -q --src-tls-verify=false docker://$PIEREG/fifty:1 oci:$WORK/pulled:x"

cat <<TABLE

Measured $(machine); one layer of 50 MB (random bytes), median of $RUNS runs.

| push to the CNCF registry | median |
|---|---|
| \`pier push\`, layer gzipped while pushing | $(median_ms "$WORK/push.json" 0) ms |
| \`pier push\`, gzip kept from an earlier push | $(median_ms "$WORK/push.json" 1) ms |
| \`docker push\` (dockerd 20.10, gzips while pushing) | $(median_ms "$WORK/push.json" 2) ms |
| \`podman push\` (gzips while pushing) | $(median_ms "$WORK/push.json" 3) ms |
| \`skopeo copy\` of a gzipped OCI layout | $(median_ms "$WORK/push.json" 4) ms |
| \`pier push\`, 50 MB of /usr/lib gzipped while pushing | $(median_ms "$WORK/push-usr.json" 0) ms |
| \`docker push\`, 50 MB of /usr/lib gzipped while pushing | $(median_ms "$WORK/push-usr.json" 1) ms |

| pull | median |
|---|---|
| \`pier pull\` from the CNCF registry | $(median_ms "$WORK/pull.json" 0) ms |
| \`pier pull\` from Pier's registry | $(median_ms "$WORK/pull.json" 1) ms |
| \`docker pull\` (dockerd 20.10) from the CNCF registry | $(median_ms "$WORK/pull.json" 2) ms |
| \`podman pull\` from the CNCF registry | $(median_ms "$WORK/pull.json" 3) ms |
| \`skopeo copy\` to an OCI layout, from the CNCF registry | $(median_ms "$WORK/pull.json" 4) ms |
| \`skopeo copy\` to an OCI layout, from Pier's registry | $(median_ms "$WORK/pull.json" 5) ms |
TABLE
