#!/usr/bin/env bash
# Filesystem speed: a Nacre mount against local disk and a plain FUSE
# passthrough of that disk (qa/bench/passthrough_fuse), in one run, as
# ratios. The passthrough is the bound a FUSE filesystem can reach here.
#
# Starts a throwaway local cluster with a mounted filesystem
# (scripts/cluster.sh, in a temporary state directory), then on each of the
# three directories runs fio (1 MiB sequential write with a final fsync, then
# sequential read after dropping caches; 4 KiB random read and write with 16
# jobs) and meta_bench (create, stat, unlink of N empty files in one
# directory and over 100 directories, 16 threads). Prints a table, then one
# JSON line.
#
#   qa/bench/fs_bench.sh [SIZE_MB] [FILES]     (defaults 1024 and 10000)
#
# Env: NACRE_BUILD_DIR (default build), NACRE_BENCH_DIR (where the scratch
# goes; default $TMPDIR). Never a timed test: numbers depend on the machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIZE_MB=${1:-1024}
FILES=${2:-10000}
BUILD=${NACRE_BUILD_DIR:-$ROOT/build}
[[ "$BUILD" = /* ]] || BUILD=$ROOT/$BUILD
for b in client/nacre client/nacre-fuse qa/bench/meta_bench qa/bench/passthrough_fuse; do
  [ -x "$BUILD/$b" ] || { echo "fs_bench: build first ($BUILD/$b missing)" >&2; exit 1; }
done
command -v fio >/dev/null || { echo "fs_bench: fio is missing (scripts/install-deps.sh)" >&2; exit 1; }

WORK=$(mktemp -d "${NACRE_BENCH_DIR:-${TMPDIR:-/tmp}}/nacre-fs-bench.XXXXXX")
STATE=$WORK/cluster
PORT=$((20000 + RANDOM % 20000))
OLD_LINK=$(readlink /etc/nacre/nacre.conf 2>/dev/null || true)
cluster() {
  NACRE_STATE_DIR=$STATE NACRE_MON_PORT=$PORT NACRE_BUILD_DIR=$BUILD NACRE_SKIP_INSTALL=1 NACRE_SKIP_BUILD=1 \
    bash "$ROOT/scripts/cluster.sh" "$@"
}
cleanup() {
  umount "$WORK/pt-mnt" 2>/dev/null || umount -l "$WORK/pt-mnt" 2>/dev/null || true
  cluster stop >/dev/null 2>&1 || true
  if [ -L /etc/nacre/nacre.conf ] && [ "$(readlink /etc/nacre/nacre.conf)" = "$STATE/nacre.conf" ]; then
    if [ -n "$OLD_LINK" ]; then ln -sfn "$OLD_LINK" /etc/nacre/nacre.conf; else rm -f /etc/nacre/nacre.conf; fi
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/local" "$WORK/pt-src" "$WORK/pt-mnt"
"$BUILD/qa/bench/passthrough_fuse" "$WORK/pt-src" "$WORK/pt-mnt" 2>/dev/null
grep -q " $WORK/pt-mnt " /proc/mounts || { echo "fs_bench: the passthrough did not mount" >&2; exit 1; }
echo "fs_bench: starting a cluster in $STATE" >&2
cluster start >"$WORK/start.log" 2>&1 || { cat "$WORK/start.log" >&2; exit 1; }
NACRE_MNT=$STATE/mnt
grep -q " $NACRE_MNT " /proc/mounts || { echo "fs_bench: the cluster did not mount its filesystem" >&2; exit 1; }
mkdir -p "$NACRE_MNT/fs_bench"

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }

# fio_bw DIR NAME ARGS...: prints MB/s (or IOPS for 4k) of one fio job.
fio_run() {
  local dir=$1 what=$2; shift 2
  fio --name=b --directory="$dir" --output-format=json "$@" 2>/dev/null |
    python3 -c "
import json, sys
j = json.load(sys.stdin)['jobs'][0]
side = j['write'] if j['write']['io_bytes'] > 0 else j['read']
print(round(side['iops']) if '$what' == 'iops' else round(side['bw_bytes'] / 1e6))"
}

declare -A R
measure() {  # name dir
  local name=$1 dir=$2
  echo "fs_bench: $name" >&2
  R[$name.seq_write]=$(fio_run "$dir" bw --rw=write --bs=1M --size=${SIZE_MB}M --ioengine=psync --end_fsync=1)
  drop_caches
  R[$name.seq_read]=$(fio_run "$dir" bw --rw=read --bs=1M --size=${SIZE_MB}M --ioengine=psync)
  rm -f "$dir"/b.*
  R[$name.rand_write]=$(fio_run "$dir" iops --rw=randwrite --bs=4k --size=16M --numjobs=16 --group_reporting \
    --ioengine=psync --time_based --runtime=10)
  drop_caches
  R[$name.rand_read]=$(fio_run "$dir" iops --rw=randread --bs=4k --size=16M --numjobs=16 --group_reporting \
    --ioengine=psync --time_based --runtime=10)
  rm -f "$dir"/b.*
  local meta
  meta=$("$BUILD/qa/bench/meta_bench" "$dir" --files "$FILES" | tail -1)
  R[$name.meta]=$meta
}

measure local "$WORK/local"
measure passthrough "$WORK/pt-mnt"
measure nacre "$NACRE_MNT/fs_bench"

python3 - "$SIZE_MB" "$FILES" <<EOF
import json, sys
r = {}
for name in ("local", "passthrough", "nacre"):
    m = json.loads('''${R[local.meta]}''' if name == "local" else '''${R[passthrough.meta]}''' if name == "passthrough" else '''${R[nacre.meta]}''')
    r[name] = m
vals = {
  "local": dict(seq_write=${R[local.seq_write]}, seq_read=${R[local.seq_read]}, rand_read=${R[local.rand_read]}, rand_write=${R[local.rand_write]}),
  "passthrough": dict(seq_write=${R[passthrough.seq_write]}, seq_read=${R[passthrough.seq_read]}, rand_read=${R[passthrough.rand_read]}, rand_write=${R[passthrough.rand_write]}),
  "nacre": dict(seq_write=${R[nacre.seq_write]}, seq_read=${R[nacre.seq_read]}, rand_read=${R[nacre.rand_read]}, rand_write=${R[nacre.rand_write]}),
}
for name in vals:
    for k in ("create", "stat", "unlink"):
        vals[name][k + "_one_dir"] = r[name]["one_dir"][k]
        vals[name][k + "_spread"] = r[name]["spread"][k]
rows = [("seq write 1 MiB (MB/s)", "seq_write"), ("seq read 1 MiB (MB/s)", "seq_read"),
        ("4 KiB rand read (IOPS)", "rand_read"), ("4 KiB rand write (IOPS)", "rand_write"),
        ("create/s, one dir", "create_one_dir"), ("stat/s, one dir", "stat_one_dir"),
        ("unlink/s, one dir", "unlink_one_dir"), ("create/s, 100 dirs", "create_spread"),
        ("stat/s, 100 dirs", "stat_spread"), ("unlink/s, 100 dirs", "unlink_spread")]
print(f"{'':26} {'local':>10} {'passthru':>10} {'nacre':>10} {'nacre/pt':>9}")
ratios = {}
for label, k in rows:
    pt = vals["passthrough"][k]
    ratio = vals["nacre"][k] / pt if pt else 0
    ratios[k] = round(ratio, 3)
    print(f"{label:26} {vals['local'][k]:>10} {pt:>10} {vals['nacre'][k]:>10} {ratio:>9.2f}")
print(json.dumps({"bench": "fs", "size_mb": int(sys.argv[1]), "files": int(sys.argv[2]), **vals, "nacre_over_passthrough": ratios}))
EOF
