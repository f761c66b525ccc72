#!/usr/bin/env bash
# Checks that each layer includes only the floors it stands on
# (doc/architecture.md). Run by the test command through CTest; prints every
# offending include and exits non-zero if there is one.
#   - Nothing under daemons/ includes librados/ (the client library), except
#     that the MDS, itself a RADOS client as Ceph's is, may use librados's
#     public API, librados/rados.h, and nothing else of it.
#   - The pure cores include nothing that does I/O (the object store, the
#     messenger, Asio, RocksDB, the simulator): the PG core daemons/osd/pg/,
#     and Paxos and elections in daemons/mon/ (not their I/O shell,
#     paxos_driver and paxos_codec, which puts Paxos messages into messenger
#     frames for it, nor their tests and simulator harnesses), and the MDS
#     request core (daemons/mds/ but its shell: mds_daemon, mds_serve,
#     mds_journal, mds_store, mds_main), which may not include librados either.
#   - crush/ includes nothing above common/ (only crush/, common/ and its own
#     generated schema).
#   - cluster/ includes nothing from daemons/, librados/, libfs/ or client/.
set -uo pipefail
cd "$(dirname "$0")/.."

bad=0
report() {  # file:line:text, reason
  echo "layering: $1  <- $2"
  bad=1
}

includes() {  # files... -> "file:line:#include ..." for quoted and angle includes
  grep -Hn -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$@" 2>/dev/null || true
}

sources() {  # dir [find args...]
  local dir=$1; shift
  find "$dir" -type f \( -name '*.h' -o -name '*.cc' \) "$@" 2>/dev/null | sort
}

# 1. daemons/ stays off the client library.
while IFS= read -r hit; do
  [ -z "$hit" ] && continue
  file=${hit%%:*}
  case "$file" in
    daemons/mds/*)
      echo "$hit" | grep -q '"librados/rados.h"' && continue
      report "$hit" "the MDS may include only librados/rados.h of librados";;
    *) report "$hit" "daemons/ must not include librados/";;
  esac
done < <(mapfile -t f < <(sources daemons); [ ${#f[@]} -gt 0 ] && includes "${f[@]}" | grep '"librados/')

# 2. Pure cores do no I/O.
io_pattern='"daemons/osd/store/|"common/msg/|"common/sim/|"common/asio_event_loop\.h"|<boost/asio|"boost/asio|<rocksdb/|"rocksdb/|"librados/'
mapfile -t cores < <(sources daemons/osd/pg ! -name '*_test.cc';
                     sources daemons/mon \( -name 'paxos*' -o -name 'election*' \) \
                       ! -name 'paxos_driver.*' ! -name 'paxos_codec.*' ! -name '*_test.cc' ! -name '*_harness.*';
                     sources daemons/mds ! -name 'mds_daemon.*' ! -name 'mds_serve.*' ! -name 'mds_journal.*' \
                       ! -name 'mds_store.*' ! -name 'mds_main.*' ! -name '*_test.cc' ! -name '*_test_util.h')
if [ ${#cores[@]} -gt 0 ]; then
  while IFS= read -r hit; do
    [ -n "$hit" ] && report "$hit" "a pure core must not include anything that does I/O"
  done < <(includes "${cores[@]}" | grep -E "$io_pattern")
fi

# 3. crush/ stands on common/ only.
mapfile -t crush_files < <(sources crush)
while IFS= read -r hit; do
  [ -z "$hit" ] && continue
  inc=$(echo "$hit" | sed -E 's/.*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/')
  case "$inc" in
    crush/*|common/*|proto/crush.pb.h|crush.pb.h) ;;
    *) report "$hit" "crush/ may include only crush/, common/ and its schema";;
  esac
done < <(includes "${crush_files[@]}" | grep '#[[:space:]]*include[[:space:]]*"')

# 4. cluster/ is a floor: nothing above it.
mapfile -t cluster_files < <(sources cluster)
if [ ${#cluster_files[@]} -gt 0 ]; then
  while IFS= read -r hit; do
    [ -n "$hit" ] && report "$hit" "cluster/ must not include daemons/, librados/, libfs/ or client/"
  done < <(includes "${cluster_files[@]}" | grep -E '"(daemons|librados|libfs|client)/')
fi

if [ $bad -ne 0 ]; then
  echo "layering check failed (see doc/architecture.md)"
  exit 1
fi
echo "layering check passed"
