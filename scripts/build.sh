#!/usr/bin/env bash
# Configures and builds Nacre into build/ (or $NACRE_BUILD_DIR) with Ninja.
# In CI (CI=true) warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${NACRE_BUILD_DIR:-build}
JOBS=${NACRE_JOBS:-2}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/nacre-ccache}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNACRE_WERROR=$werror >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS"
