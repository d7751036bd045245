#!/usr/bin/env bash
# Pier's main job, the ML walkthrough: build Pier, make a Python base image, build the Iris model
# service (examples/iris), run it, wait until it is healthy, ask it for a prediction, look at it with
# ps and logs, save the image to share it, and clean up. Run it twice: the second build is cached.
set -euo pipefail
cd "$(dirname "$0")"
DEMO_START=$(date +%s.%N)
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; STEP_START=$(date +%s.%N); }
took() { printf '    (%.2fs)\n' "$(echo "$(date +%s.%N) - $STEP_START" | bc)"; }
fail() { printf '\033[31mdemo failed at: %s\033[0m\n' "$*" >&2; exit 1; }
trap 'fail "$BASH_COMMAND (line $LINENO)"' ERR

step "Installing what Pier needs"
./.ci/install-deps; command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
command -v curl >/dev/null || apt-get install -y -qq curl >/dev/null; took
step "Building Pier (release)"
swift build -c release --static-swift-stdlib 2>&1 | tail -n 1; took
BIN="$(swift build -c release --show-bin-path)"
pier() { "$BIN/pier" "$@"; }
export PIER_HOST="unix:///run/pier-demo/pier.sock" PIER_ROOT="/var/lib/pier-demo"
PORT="${DEMO_PORT:-5000}"
OUT=/tmp/pier-demo
mkdir -p /run/pier-demo "$OUT"
cleanup() {
    "$BIN/pier" rm -f iris-demo >/dev/null 2>&1 || true
    pkill -f "pierd --host /run/pier-demo/pier.sock" 2>/dev/null || true
}
trap cleanup EXIT

step "pier version (starts pierd on first use)"
pier version --format 'Pier {{.Server.Version}}, API {{.Server.APIVersion}}'; took

step "pier bootstrap python:3.11-slim (a base image from Debian's packages; once)"
if pier image inspect python:3.11-slim >/dev/null 2>&1; then
    echo "    python:3.11-slim is already here"
else
    pier bootstrap python:3.11-slim
fi
took

if ss -ltn "sport = :$PORT" | grep -q LISTEN; then
    fail "port $PORT is taken ($(ss -ltnp "sport = :$PORT" | tail -n 1 | sed 's/.*users://')); run with DEMO_PORT=<free port>"
fi

step "pier build -t iris examples/iris (train in one stage, serve from the last)"
BUILD_START=$(date +%s.%N)
pier build -t iris --progress=plain examples/iris
BUILD_TIME=$(echo "$(date +%s.%N) - $BUILD_START" | bc); took
pier images iris

step "pier run -d -p $PORT:5000 --name iris-demo iris"
RUN_START=$(date +%s.%N)
pier run -d -p "$PORT:5000" --name iris-demo iris; took

step "Waiting until the health check says healthy"
for _ in $(seq 1 120); do
    STATUS=$(pier inspect --format '{{.State.Health.Status}}' iris-demo)
    [ "$STATUS" = healthy ] && break
    [ "$(pier inspect --format '{{.State.Running}}' iris-demo)" = true ] || { pier logs iris-demo; fail "the container stopped"; }
    sleep 0.5
done
[ "$STATUS" = healthy ] || { pier logs iris-demo; fail "still $STATUS after 60 s"; }
echo "    $STATUS"; took

step "POST /predict {\"features\": [5.1, 3.5, 1.4, 0.2]}"
ANSWER=$(curl -fsS -X POST "http://127.0.0.1:$PORT/predict" -H 'Content-Type: application/json' \
              -d '{"features": [5.1, 3.5, 1.4, 0.2]}')
FIRST_PREDICTION=$(echo "$(date +%s.%N) - $RUN_START" | bc)
echo "    $ANSWER"
echo "$ANSWER" | grep -q '"class":"setosa"' || fail "expected setosa, got $ANSWER"
printf '    (first prediction %.2fs after pier run)\n' "$FIRST_PREDICTION"
step "Two flowers at once"
curl -fsS -X POST "http://127.0.0.1:$PORT/predict" -H 'Content-Type: application/json' \
     -d '{"features": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'; echo; took

step "pier ps"
pier ps; took
step "pier logs iris-demo"
pier logs --tail 5 iris-demo; took

step "pier save -o $OUT/iris.tar iris (share it as the tutorials do)"
pier save -o "$OUT/iris.tar" iris; ls -lh "$OUT/iris.tar" | awk '{print "    " $5 " " $9}'; took

step "Cleaning up (the images stay, so a second run builds from the cache)"
pier rm -f iris-demo >/dev/null; rm -f "$OUT/iris.tar"; took

printf '\n\033[32mDemo finished in %.1fs (build %.1fs).\033[0m\n' "$(echo "$(date +%s.%N) - $DEMO_START" | bc)" "$BUILD_TIME"
