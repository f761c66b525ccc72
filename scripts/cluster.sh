#!/usr/bin/env bash
# The local cluster: installs what is needed, builds, and runs a Nacre
# cluster on 127.0.0.1 under one state directory: NACRE_NUM_MONS (3, at
# most 5) monitors, NACRE_NUM_OSDS (3) OSDs, each OSD under its own CRUSH
# host, and NACRE_NUM_MDS (2: one active, one standby) MDS daemons serving
# the filesystem `cephfs`, mounted with nacre-fuse at $STATE/mnt
# (NACRE_MOUNT to move it).
#
#   scripts/cluster.sh start    install, build, create (first time), start, mount
#   scripts/cluster.sh stop     unmount, stop every daemon this cluster started
#   scripts/cluster.sh status   nacre -s
#
# Running `start` again with the cluster up changes nothing. The state lives
# in $NACRE_STATE_DIR (default: ./run/cluster in the repository); the config
# is run/cluster/nacre.conf, and /etc/nacre/nacre.conf points at it unless
# that file is someone else's, so `nacre -s` works with no flags.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${NACRE_STATE_DIR:-$ROOT/run/cluster}
BUILD=${NACRE_BUILD_DIR:-$ROOT/build}
ALL_MONS=(a b c d e)
NUM_MONS=${NACRE_NUM_MONS:-3}
[[ "$NUM_MONS" =~ ^[1-5]$ ]] || { echo "cluster: NACRE_NUM_MONS must be 1 to 5" >&2; exit 2; }
MONS=("${ALL_MONS[@]:0:$NUM_MONS}")
NUM_OSDS=${NACRE_NUM_OSDS:-3}
ALL_MDS=(a b c d e)
NUM_MDS=${NACRE_NUM_MDS:-2}
[[ "$NUM_MDS" =~ ^[0-5]$ ]] || { echo "cluster: NACRE_NUM_MDS must be 0 to 5" >&2; exit 2; }
MDSS=("${ALL_MDS[@]:0:$NUM_MDS}")
MNT=${NACRE_MOUNT:-$STATE/mnt}
FS_NAME=cephfs
MON_BASE_PORT=${NACRE_MON_PORT:-6789}   # mon i: messenger BASE+2i, admin BASE+2i+1
CONF=$STATE/nacre.conf
BIN=$BUILD

die() { echo "cluster: $*" >&2; exit 1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

nacre() { "$BIN/client/nacre" -c "$CONF" "$@"; }

wait_for_quorum() {
  local deadline=$((SECONDS + 60))
  until nacre --connect-timeout 2 quorum_status >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "monitors did not form a quorum in 60 s (logs: $STATE/log)"
    sleep 0.2
  done
}

create() {
  mkdir -p "$STATE"/{log,run,osd}
  local fsid mon_host="" members=""
  fsid=$(cat /proc/sys/kernel/random/uuid)
  for i in "${!MONS[@]}"; do
    mon_host+="${mon_host:+,}127.0.0.1:$((MON_BASE_PORT + 2 * i))"
    members+="${members:+,}${MONS[$i]}"
  done
  umask 077
  cat >"$STATE/keyring" <<KEYS
[mon.]
	key = $(head -c 32 /dev/urandom | base64)
	caps mon = "allow *"
[client.admin]
	key = $(head -c 32 /dev/urandom | base64)
	caps mon = "allow *"
	caps osd = "allow *"
	caps mds = "allow *"
[client.bootstrap-osd]
	key = $(head -c 32 /dev/urandom | base64)
	caps mon = "allow profile bootstrap-osd"
KEYS
  for m in "${ALL_MDS[@]}"; do
    printf '[mds.%s]\n\tkey = %s\n\tcaps mon = "allow profile mds"\n\tcaps osd = "allow *"\n\tcaps mds = "allow"\n' \
      "$m" "$(head -c 32 /dev/urandom | base64)" >>"$STATE/keyring"
  done
  umask 022
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = $mon_host
mon initial members = $members
keyring = $STATE/keyring
run dir = $STATE/run
log level = info

[mon]
mon data = $STATE/mon/\$id
log file = $STATE/log/mon.\$id.log

[mds]
log file = $STATE/log/mds.\$id.log
CONF
  # One CRUSH host per local OSD, so 3-way replication has 3 failure domains.
  for ((i = 0; i < NUM_OSDS; i++)); do
    "$BIN/daemons/osd/nacre-osd" -c "$CONF" --name "osd.local-$i" --osd_data "$STATE/osd/$i" --mkfs \
      >>"$STATE/log/mkfs.log" 2>&1 || die "mkfs of OSD $i failed (log: $STATE/log/mkfs.log)"
  done
  mkdir -p "$STATE/mon"
  for m in "${MONS[@]}"; do
    "$BIN/daemons/mon/nacre-mon" --id "$m" -c "$CONF" --mkfs >>"$STATE/log/mkfs.log" 2>&1 ||
      die "mkfs of mon.$m failed (log: $STATE/log/mkfs.log)"
  done
  echo "cluster: created $fsid in $STATE"
}

start_daemons() {
  for m in "${MONS[@]}"; do
    pid_alive "$STATE/run/mon.$m.pid" && continue
    nohup "$BIN/daemons/mon/nacre-mon" --id "$m" -c "$CONF" >>"$STATE/log/mon.$m.out" 2>&1 &
  done
  for ((i = 0; i < NUM_OSDS; i++)); do
    # Local OSDs are named by their slot (osd.local-N: its pid file, its
    # config section); the monitors give each its numeric id at boot.
    pid_alive "$STATE/run/osd.local-$i.pid" && continue
    nohup "$BIN/daemons/osd/nacre-osd" -c "$CONF" --name "osd.local-$i" --osd_data "$STATE/osd/$i" \
      --osd_crush_host "local-$i" --log_file "$STATE/log/osd-$i.log" >>"$STATE/log/osd-$i.out" 2>&1 &
  done
  for m in "${MDSS[@]}"; do
    pid_alive "$STATE/run/mds.$m.pid" && continue
    nohup "$BIN/daemons/mds/nacre-mds" --id "$m" -c "$CONF" >>"$STATE/log/mds.$m.out" 2>&1 &
  done
  # Wait for the pid files, so `stop` right after `start` finds every daemon.
  local deadline=$((SECONDS + 30))
  for f in "${MONS[@]/#/mon.}" $(seq -f "osd.local-%g" 0 $((NUM_OSDS - 1))) "${MDSS[@]/#/mds.}"; do
    until [ -s "$STATE/run/$f.pid" ]; do
      [ $SECONDS -lt $deadline ] || die "$f did not start (logs: $STATE/log)"
      sleep 0.1
    done
  done
}

wait_for_osds() {
  local deadline=$((SECONDS + 60))
  until nacre -s 2>/dev/null | grep -q "$NUM_OSDS osds: $NUM_OSDS up, $NUM_OSDS in"; do
    [ $SECONDS -lt $deadline ] || die "OSDs did not all boot in 60 s (logs: $STATE/log)"
    sleep 0.2
  done
}

wait_for_clean() {
  local deadline=$((SECONDS + 120))
  until nacre health 2>/dev/null | grep -q HEALTH_OK; do
    [ $SECONDS -lt $deadline ] || die "PGs did not become active+clean in 120 s: $(nacre health detail 2>&1 | head -5)"
    sleep 0.2
  done
}

# Writes an object to the replicated pool and reads it back: the data path
# works end to end, not just the daemons.
check_io() {
  local src="$STATE/run/hello.in" dst="$STATE/run/hello.out"
  echo "hello from nacre, $(date -u +%FT%TZ)" >"$src"
  nacre rados -p rbd put nacre-hello "$src" || die "writing an object failed"
  nacre rados -p rbd get nacre-hello "$dst" || die "reading the object back failed"
  cmp -s "$src" "$dst" || die "the object read back differs from what was written"
  echo "wrote and read back rbd/nacre-hello ($(wc -c <"$src") bytes)"
}

# The filesystem: its volume (pools and FSMap entry), an active MDS, and the
# mount, with a file written and read back through it.
start_fs() {
  [ "$NUM_MDS" -gt 0 ] || return 0
  nacre fs volume create "$FS_NAME" >/dev/null || die "creating the volume $FS_NAME failed"
  if [ "$NUM_OSDS" -lt 3 ]; then
    for p in "cephfs.$FS_NAME.meta" "cephfs.$FS_NAME.data"; do
      nacre osd pool set "$p" size "$NUM_OSDS" >/dev/null
    done
  fi
  wait_for_clean
  local deadline=$((SECONDS + 60))
  until nacre fs status "$FS_NAME" 2>/dev/null | grep -q "active"; do
    [ $SECONDS -lt $deadline ] || die "no MDS became active in 60 s (logs: $STATE/log)"
    sleep 0.2
  done
  mkdir -p "$MNT"
  if ! grep -q " $MNT fuse" /proc/mounts; then
    "$BIN/client/nacre-fuse" -c "$CONF" --fs "$FS_NAME" "$MNT" --log_file "$STATE/log/fuse.log" ||
      die "mounting $FS_NAME at $MNT failed (log: $STATE/log/fuse.log)"
  fi
  local probe="$MNT/.nacre-hello"
  echo "hello from nacre, $(date -u +%FT%TZ)" >"$probe" || die "writing through the mount failed"
  grep -q "hello from nacre" "$probe" || die "reading back through the mount failed"
  rm -f "$probe"
  echo "mounted $FS_NAME at $MNT (wrote and read back a file)"
}

stop_fs() {
  if grep -q " $MNT fuse" /proc/mounts 2>/dev/null; then
    umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
    echo "cluster: unmounted $MNT"
  fi
}

link_conf() {
  # Point /etc/nacre/nacre.conf at this cluster, unless it is someone else's.
  if [ -w /etc ] && { [ ! -e /etc/nacre/nacre.conf ] || [ -L /etc/nacre/nacre.conf ]; }; then
    mkdir -p /etc/nacre && ln -sfn "$CONF" /etc/nacre/nacre.conf
  fi
}

cmd_start() {
  if [ "${NACRE_SKIP_INSTALL:-0}" != 1 ]; then bash "$ROOT/scripts/install-deps.sh"; fi
  if [ "${NACRE_SKIP_BUILD:-0}" != 1 ]; then NACRE_BUILD_DIR=$BUILD bash "$ROOT/scripts/build.sh"; fi
  [ -f "$CONF" ] || create
  start_daemons
  wait_for_quorum
  wait_for_osds
  link_conf
  nacre osd pool create rbd >/dev/null
  wait_for_clean
  check_io
  start_fs
  nacre -s
  echo
  echo "cluster: running; try: $BIN/client/nacre -c $CONF health detail"
  [ "$NUM_MDS" -gt 0 ] && echo "cluster: the filesystem is mounted at $MNT"
  return 0
}

cmd_stop() {
  stop_fs
  [ -d "$STATE/run" ] || { echo "cluster: nothing to stop"; return 0; }
  local pids=()
  for f in "$STATE"/run/*.pid; do
    [ -e "$f" ] || continue
    pid_alive "$f" && pids+=("$(cat "$f")")
  done
  [ ${#pids[@]} -gt 0 ] || { echo "cluster: nothing running"; return 0; }
  kill "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then kill -9 "$p" 2>/dev/null || true; break; fi
      sleep 0.1
    done
  done
  echo "cluster: stopped ${#pids[@]} daemons"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) nacre -s ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 22 ;;
esac
