#!/usr/bin/env bash
# Pier's test command: installs dependencies, builds, and runs every test (unit, integration, interop).
set -euo pipefail
cd "$(dirname "$0")"
./.ci/install-deps
swift build 2>&1 | tail -n 3
swift test --no-parallel 2>&1 | tee /tmp/pier-test.log | grep -vE "^\[[0-9]+/[0-9]+\]" | tail -n 80
exit "${PIPESTATUS[0]}"
