#!/usr/bin/env bash
# librados throughput and latency against fio on the same disk.
#
# Starts a throwaway local cluster (3 monitors, 3 OSDs) in a temporary state
# directory with scripts/cluster.sh, creates a size=1 and a size=3 pool, and
# runs `nacre rados bench` (4 MiB and 4 KiB ops, 16 in flight, write then
# rand) on each. fio runs the same pattern (same block size, 16 in flight,
# a synced write per op as an OSD commits durably, random reads) in the same
# directory, as the baseline. Prints a table, then one JSON line.
#
#   qa/bench/rados_bench.sh [SECONDS]      (default 10 per run)
#
# Env: NACRE_BUILD_DIR (default build), NACRE_BENCH_DIR (where the state dir
# goes; default $TMPDIR), NACRE_MON_PORT (default: a random free-ish port).
# Never a timed test: numbers depend on the machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-10}
BUILD=${NACRE_BUILD_DIR:-$ROOT/build}
[[ "$BUILD" = /* ]] || BUILD=$ROOT/$BUILD
NACRE=$BUILD/client/nacre
[ -x "$NACRE" ] || { echo "rados_bench: build first ($NACRE missing)" >&2; exit 1; }
command -v fio >/dev/null || { echo "rados_bench: fio is missing (scripts/install-deps.sh)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "rados_bench: python3 is missing" >&2; exit 1; }

STATE=$(mktemp -d "${NACRE_BENCH_DIR:-${TMPDIR:-/tmp}}/nacre-rados-bench.XXXXXX")
PORT=${NACRE_MON_PORT:-$((20000 + RANDOM % 20000))}
# cluster.sh points /etc/nacre/nacre.conf at the cluster it starts when that
# is a symlink; put back whatever was there.
OLD_LINK=$(readlink /etc/nacre/nacre.conf 2>/dev/null || true)
cluster() {
  NACRE_STATE_DIR=$STATE NACRE_MON_PORT=$PORT NACRE_BUILD_DIR=$BUILD NACRE_SKIP_INSTALL=1 NACRE_SKIP_BUILD=1 \
    bash "$ROOT/scripts/cluster.sh" "$@"
}
cleanup() {
  cluster stop >/dev/null 2>&1 || true
  if [ -L /etc/nacre/nacre.conf ] && [ "$(readlink /etc/nacre/nacre.conf)" = "$STATE/nacre.conf" ]; then
    if [ -n "$OLD_LINK" ]; then ln -sfn "$OLD_LINK" /etc/nacre/nacre.conf; else rm -f /etc/nacre/nacre.conf; fi
  fi
  rm -rf "$STATE"
}
trap cleanup EXIT

echo "rados_bench: cluster in $STATE (mon port $PORT), $SECS s per run" >&2
cluster start >"$STATE.start.log" 2>&1 || { cat "$STATE.start.log" >&2; exit 1; }
rm -f "$STATE.start.log"
n() { "$NACRE" -c "$STATE/nacre.conf" "$@"; }
n osd pool create bench1 32 >/dev/null
n osd pool set bench1 size 1 >/dev/null
n osd pool set bench1 min_size 1 >/dev/null
n osd pool create bench3 32 >/dev/null

RESULTS=$STATE/results.jsonl
: >"$RESULTS"

# rados bench: one JSON summary per run, tagged with pool, size and mode.
rb() {
  local pool=$1 size=$2 mode=$3 extra=${4:-}
  local out
  out=$(n rados bench -p "$pool" "$SECS" "$mode" -b "$size" -t 16 $extra --format json) || {
    echo "rados_bench: bench $pool $size $mode failed" >&2; return 1; }
  python3 - "$pool" "$size" "$mode" "$out" >>"$RESULTS" <<'PY'
import json, sys
pool, size, mode, out = sys.argv[1:5]
j = json.loads(out.strip().splitlines()[-1])
print(json.dumps({"tool": "rados", "pool": pool, "bs": size, "mode": mode,
                  "mbps": j["bandwidth_mb_sec"], "iops": j["average_iops"],
                  "lat_median_ms": j["median_latency"] * 1e3, "lat_p99_ms": j["p99_latency"] * 1e3}))
PY
}

# fio baseline in the OSDs' directory: the same block size and depth; writes
# synced per op (an OSD acks only what is durable), reads of what was written.
fiorun() {
  local size=$1 mode=$2 rw
  [ "$mode" = write ] && rw=randwrite || rw=randread
  local dir=$STATE/fio
  mkdir -p "$dir"
  local out
  out=$(fio --name=nacre --directory="$dir" --rw="$rw" --bs="$size" --size=256M --numjobs=1 --iodepth=16 \
    --ioengine=libaio --direct=1 $([ "$mode" = write ] && echo --fdatasync=1) --time_based --runtime="$SECS" \
    --group_reporting --output-format=json 2>/dev/null) || { echo "rados_bench: fio failed" >&2; return 1; }
  python3 - "$size" "$mode" "$out" >>"$RESULTS" <<'PY'
import json, sys
size, mode, out = sys.argv[1:4]
j = json.loads(out[out.index("{"):])
job = j["jobs"][0]
d = job["write" if mode == "write" else "read"]
pct = d.get("clat_ns", {}).get("percentile", {})
print(json.dumps({"tool": "fio", "pool": "-", "bs": size, "mode": mode,
                  "mbps": d["bw_bytes"] / 1048576.0, "iops": d["iops"],
                  "lat_median_ms": float(pct.get("50.000000", 0)) / 1e6,
                  "lat_p99_ms": float(pct.get("99.000000", 0)) / 1e6}))
PY
}

for size in 4M 4K; do
  fiorun "$size" write
  fiorun "$size" rand
  for pool in bench1 bench3; do
    rb "$pool" "$size" write --no-cleanup
    rb "$pool" "$size" rand
    n rados -p "$pool" cleanup >/dev/null || true
  done
done

python3 - "$RESULTS" "$SECS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
base = {(r["bs"], r["mode"]): r for r in rows if r["tool"] == "fio"}
print(f"{'run':<22}{'MB/s':>10}{'IOPS':>10}{'med ms':>10}{'p99 ms':>10}{'MB/s vs fio':>13}")
for r in rows:
    name = f"{r['tool']} {r['pool']} {r['bs']} {r['mode']}"
    b = base.get((r["bs"], r["mode"]))
    ratio = r["mbps"] / b["mbps"] if b and b["mbps"] > 0 else 0
    r["ratio_vs_fio"] = round(ratio, 3)
    print(f"{name:<22}{r['mbps']:>10.1f}{r['iops']:>10.0f}{r['lat_median_ms']:>10.2f}{r['lat_p99_ms']:>10.2f}{ratio:>13.2f}")
print(json.dumps({"bench": "rados", "seconds": int(sys.argv[2]), "runs": rows}))
PY
