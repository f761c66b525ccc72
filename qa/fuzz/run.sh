#!/usr/bin/env bash
# Builds every libFuzzer target with clang (build-fuzz/) and runs each for a
# bounded time (default 20 s). A crash fails the script and leaves the input
# in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-20}
BUILD_DIR=build-fuzz
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/nacre-ccache}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNACRE_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
# Executables named *_fuzz, as paths relative to the build dir.
targets=$(ninja -C "$BUILD_DIR" -t targets all | awk -F: '/_fuzz: CXX_EXECUTABLE_LINKER/ {print $1}' | sort -u)
[ -n "$targets" ] || { echo "no fuzz targets found"; exit 1; }
ninja -C "$BUILD_DIR" -j "${NACRE_JOBS:-2}" $targets
mkdir -p "$BUILD_DIR/crashes"
failed=0
for t in $targets; do
  bin="$BUILD_DIR/$t"
  t=$(basename "$t")
  corpus="$BUILD_DIR/corpus/$t"
  mkdir -p "$corpus"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  if ! "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 \
      -artifact_prefix="$BUILD_DIR/crashes/$t-" "$corpus" >"$BUILD_DIR/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (see $BUILD_DIR/$t.log)"; tail -30 "$BUILD_DIR/$t.log"; failed=1
  fi
done
exit $failed
