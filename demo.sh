#!/usr/bin/env bash
# Pier's main job. Until the ML walkthrough lands (issue 7), it walks through what Pier does today:
# build Pier, start pierd on its own socket, make a base image, run containers, save and load the image.
set -euo pipefail
cd "$(dirname "$0")"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; STEP_START=$(date +%s.%N); }
took() { printf '    (%.2fs)\n' "$(echo "$(date +%s.%N) - $STEP_START" | bc)"; }
fail() { printf '\033[31mdemo failed at: %s\033[0m\n' "$*" >&2; exit 1; }
trap 'fail "$BASH_COMMAND (line $LINENO)"' ERR

step "Installing what Pier needs"
./.ci/install-deps; command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null; took
step "Building Pier (release)"
swift build -c release --static-swift-stdlib 2>&1 | tail -n 1; took
BIN="$(swift build -c release --show-bin-path)"
export PIER_HOST="unix:///tmp/pier-demo/pier.sock" PIER_ROOT="/var/lib/pier-demo"
mkdir -p /tmp/pier-demo
cleanup() { pkill -f "pierd --host /tmp/pier-demo/pier.sock" 2>/dev/null || true; }
trap cleanup EXIT

step "pier version (starts pierd on first use)"
"$BIN/pier" version; took
step "pier bootstrap busybox (a base image from this machine's busybox-static)"
"$BIN/pier" bootstrap busybox; took
step "pier images"
"$BIN/pier" images; took
step "pier image inspect busybox --format ..."
"$BIN/pier" image inspect --format 'Id={{.Id}} Cmd={{json .Config.Cmd}} Layers={{len .RootFS.Layers}}' busybox; took
step "pier history busybox"
"$BIN/pier" history busybox; took
step "pier run --rm busybox (a container on Pier's own runtime)"
"$BIN/pier" run --rm --hostname demo busybox sh -c 'echo "hello from $(hostname), PID $$"'; took
step "pier run -d, logs, exec, stop, rm"
"$BIN/pier" run -d --name demo-ticker busybox sh -c 'trap "exit 0" TERM; while true; do date; sleep 0.2; done' >/dev/null
sleep 0.5; "$BIN/pier" ps; "$BIN/pier" logs --tail 2 demo-ticker; "$BIN/pier" exec demo-ticker uname -r
"$BIN/pier" stop demo-ticker >/dev/null; "$BIN/pier" rm demo-ticker >/dev/null; took
step "pier save -o /tmp/pier-demo/busybox.tar busybox (share it as the tutorials do)"
"$BIN/pier" save -o /tmp/pier-demo/busybox.tar busybox; ls -lh /tmp/pier-demo/busybox.tar; took
step "pier rmi busybox && pier load -i busybox.tar"
"$BIN/pier" rmi busybox; "$BIN/pier" load -i /tmp/pier-demo/busybox.tar; took
step "The real docker CLI against pierd"
DOCKER_HOST="$PIER_HOST" docker images; took
step "Cleaning up"
"$BIN/pier" rmi busybox >/dev/null; rm -f /tmp/pier-demo/busybox.tar; took
printf '\n\033[32mDemo finished.\033[0m\n'
