#!/usr/bin/env bash
# Networking costs, in one run: `run --rm busybox true` on the default bridge against `--network none`
# (what bridge networking adds to a run), and HTTP requests per second (wrk, 16 connections) to busybox
# httpd through a published port on 127.0.0.1 against the container's own address (what the port
# forwarding costs), for Pier and for Docker (dockerd 20.10 from docker.io: its default bridge,
# iptables DNAT and docker-proxy).
#
# dockerd runs in a network namespace of its own (loopback up, nothing else), so the iptables rules
# and the FORWARD policy it installs stay there instead of changing the host's; its published port is
# measured from inside that namespace, where its 127.0.0.1 is. (nsenter --net, not `ip netns exec`:
# that also remounts /sys, hiding the cgroup hierarchies dockerd needs.)
#
#   PIER_BIN=.build/debug   skip the release build (the figures then include debug-build overhead)
#   RUNS=N, DURATION=S      runs per command (default 30), seconds of wrk per figure (default 5)
source "$(dirname "$0")/lib.sh"
need wrk wrk
DOCKER_NS=pier-bench-docker
cleanup() {
    "$PIER" rm -f bench-web >/dev/null 2>&1 || true
    stop_all
    ip netns del "$DOCKER_NS" 2>/dev/null || true
}
trap cleanup EXIT
if [ -n "${PIER_BIN:-}" ]; then
    export PIER="$REPO/$PIER_BIN/pier" PIERD="$REPO/$PIER_BIN/pierd"
else
    build_pier
fi
rm -rf "$WORK" && mkdir -p "$WORK"
export PIER_BRIDGE=pbench0
start_pierd
"$PIER" bootstrap busybox >/dev/null

echo "==> dockerd in network namespace $DOCKER_NS"
ip netns del "$DOCKER_NS" 2>/dev/null || true
ip netns add "$DOCKER_NS"
ip netns exec "$DOCKER_NS" ip link set lo up
export DOCKER_BENCH_HOST="unix://$WORK/docker.sock"
nsenter --net=/run/netns/"$DOCKER_NS" dockerd --data-root "$WORK/docker-root" --exec-root "$WORK/docker-exec" \
    --pidfile "$WORK/docker.pid" --host "$DOCKER_BENCH_HOST" >"$WORK/dockerd.log" 2>&1 &
for _ in $(seq 200); do dockercli version >/dev/null 2>&1 && break; sleep 0.1; done
dockercli version >/dev/null || { echo "dockerd did not start; see $WORK/dockerd.log" >&2; exit 1; }
"$PIER" save -o "$WORK/busybox.tar" busybox
dockercli load -i "$WORK/busybox.tar" >/dev/null

echo "==> run --rm busybox true, --network none against the default bridge"
hyperfine -N -i --warmup 3 --runs "${RUNS:-30}" --export-json "$WORK/run.json" \
    -n "pier run --rm --network none" "$PIER run --rm --network none busybox true" \
    -n "pier run --rm (bridge)" "$PIER run --rm busybox true" \
    -n "docker run --rm --network none" "docker -H $DOCKER_BENCH_HOST run --rm --network none busybox true" \
    -n "docker run --rm (bridge)" "docker -H $DOCKER_BENCH_HOST run --rm busybox true"

echo "==> HTTP: busybox httpd, 1 KiB page, wrk -t2 -c16"
serve='mkdir -p /www && head -c 1024 /dev/zero > /www/index.html && exec httpd -f -p 80 -h /www'
rps() { wrk -t2 -c16 -d"${DURATION:-5}s" "$1" 2>/dev/null | awk '/Requests\/sec/{print $2}'; }
"$PIER" run -d --name bench-web -p 127.0.0.1:18181:80 busybox sh -c "$serve" >/dev/null
pier_ip=$("$PIER" inspect --format '{{.NetworkSettings.IPAddress}}' bench-web)
dockercli run -d --name bench-web -p 127.0.0.1:18182:80 busybox sh -c "$serve" >/dev/null
docker_ip=$(dockercli inspect --format '{{.NetworkSettings.IPAddress}}' bench-web)
sleep 1
# Interleaved, so a slow moment of the machine does not fall on one side only.
pier_direct=$(rps "http://$pier_ip/")
pier_published=$(rps "http://127.0.0.1:18181/")
docker_direct=$(ip netns exec "$DOCKER_NS" wrk -t2 -c16 -d"${DURATION:-5}s" "http://$docker_ip/" 2>/dev/null | awk '/Requests\/sec/{print $2}')
docker_published=$(ip netns exec "$DOCKER_NS" wrk -t2 -c16 -d"${DURATION:-5}s" "http://127.0.0.1:18182/" 2>/dev/null | awk '/Requests\/sec/{print $2}')
dockercli rm -f bench-web >/dev/null
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f %%", 100 * a / b }'; }

cat <<TABLE

Networking ($(machine)):

| run --rm busybox true | median |
|---|---|
| pier, --network none | $(median_ms "$WORK/run.json" 0) ms |
| pier, default bridge | $(median_ms "$WORK/run.json" 1) ms |
| docker, --network none | $(median_ms "$WORK/run.json" 2) ms |
| docker, default bridge | $(median_ms "$WORK/run.json" 3) ms |

| HTTP, busybox httpd, 1 KiB page, wrk -t2 -c16 | requests/s | of direct |
|---|---|---|
| pier, container address | $pier_direct | |
| pier, published port 127.0.0.1 | $pier_published | $(percent "$pier_published" "$pier_direct") |
| docker, container address | $docker_direct | |
| docker, published port 127.0.0.1 (docker-proxy) | $docker_published | $(percent "$docker_published" "$docker_direct") |
TABLE
