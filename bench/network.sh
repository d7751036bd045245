#!/usr/bin/env bash
# Networking costs, in one run: `run --rm busybox true` on the default bridge against `--network none`
# (what bridge networking adds to a run), and HTTP requests per second to busybox httpd through a
# published port on 127.0.0.1 against the container's own address (what the DNAT path costs), with
# Docker (dockerd from docker.io, its default bridge and docker-proxy) beside it when it can run here.
# PIER_BIN=.build/debug skips the release build (the figures then include debug-build overhead).
source "$(dirname "$0")/lib.sh"
need ab apache2-utils
trap '"$PIER" rm -f bench-web >/dev/null 2>&1 || true; stop_all' EXIT
if [ -n "${PIER_BIN:-}" ]; then
    export PIER="$REPO/$PIER_BIN/pier" PIERD="$REPO/$PIER_BIN/pierd"
else
    build_pier
fi
rm -rf "$WORK" && mkdir -p "$WORK"
export PIER_BRIDGE=pbench0
start_pierd
"$PIER" bootstrap busybox >/dev/null

docker_ok=false
if command -v dockerd >/dev/null && [ -z "${SKIP_DOCKER:-}" ]; then
    export DOCKER_BENCH_HOST="unix://$WORK/docker.sock"
    dockerd --data-root "$WORK/docker-root" --exec-root "$WORK/docker-exec" --pidfile "$WORK/docker.pid" \
        --host "$DOCKER_BENCH_HOST" >"$WORK/dockerd.log" 2>&1 &
    for _ in $(seq 200); do DOCKER_HOST="$DOCKER_BENCH_HOST" docker version >/dev/null 2>&1 && docker_ok=true && break; sleep 0.1; done
    if $docker_ok; then "$PIER" save -o "$WORK/busybox.tar" busybox && dockercli load -i "$WORK/busybox.tar" >/dev/null; fi
fi

runs=(-n "pier run --rm --network none" "$PIER run --rm --network none busybox true"
      -n "pier run --rm (bridge)" "$PIER run --rm busybox true")
if $docker_ok; then
    runs+=(-n "docker run --rm --network none" "docker -H $DOCKER_BENCH_HOST run --rm --network none busybox true"
           -n "docker run --rm (bridge)" "docker -H $DOCKER_BENCH_HOST run --rm busybox true")
fi
hyperfine -N -i --warmup 3 --runs "${RUNS:-30}" --export-json "$WORK/run.json" "${runs[@]}"

# HTTP: the same busybox httpd, through the published port and at the container's address.
serve='mkdir -p /www && head -c 1024 /dev/zero > /www/index.html && exec httpd -f -p 80 -h /www'
"$PIER" run -d --name bench-web -p 127.0.0.1:18181:80 busybox sh -c "$serve" >/dev/null
ip=$("$PIER" inspect --format '{{.NetworkSettings.IPAddress}}' bench-web)
sleep 0.5
rps() { ab -q -n "${REQUESTS:-20000}" -c 16 "$1" 2>/dev/null | awk '/Requests per second/{print $4}'; }
pier_published=$(rps "http://127.0.0.1:18181/")
pier_direct=$(rps "http://$ip/")
docker_published="-"
if $docker_ok; then
    dockercli run -d --name bench-web -p 127.0.0.1:18182:80 busybox sh -c "$serve" >/dev/null
    sleep 0.5
    docker_published=$(rps "http://127.0.0.1:18182/")
    dockercli rm -f bench-web >/dev/null
fi

cat <<TABLE

Networking ($(machine)):

| | median |
|---|---|
| pier run --rm --network none busybox true | $(median_ms "$WORK/run.json" 0) ms |
| pier run --rm busybox true (default bridge) | $(median_ms "$WORK/run.json" 1) ms |
$($docker_ok && echo "| docker run --rm --network none busybox true | $(median_ms "$WORK/run.json" 2) ms |")
$($docker_ok && echo "| docker run --rm busybox true (default bridge) | $(median_ms "$WORK/run.json" 3) ms |")

| HTTP, busybox httpd, 1 KiB page, ab -c 16 | requests/s |
|---|---|
| pier, container address | $pier_direct |
| pier, published port 127.0.0.1 (nftables DNAT) | $pier_published |
| docker, published port 127.0.0.1 | $docker_published |
TABLE
