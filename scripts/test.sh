#!/usr/bin/env bash
# The test command: installs what is needed, builds, runs every test through
# CTest, then runs each fuzz target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${NACRE_BUILD_DIR:-build}
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 900 -j "${NACRE_TEST_JOBS:-2}")
if [ "${NACRE_SKIP_FUZZ:-0}" != "1" ]; then
  bash qa/fuzz/run.sh "${NACRE_FUZZ_SECONDS:-20}"
fi
