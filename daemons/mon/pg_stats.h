// PG statistics on the monitors: the latest OsdPgStats report of every OSD,
// and the cluster-wide PG view derived from them.
//
// Reports live in memory only, like Ceph's mgr keeps them: they are re-sent
// every few seconds, so a restarted monitor has a full view again shortly,
// and putting them through Paxos would turn every report into a commit.
//
// Every monitor keeps every report: the monitor an OSD reports to relays
// the report to the other monitors in its quorum (Monitor::HandlePgStats),
// so `pg stat`, `status`, `health`... are answered by any monitor holding a
// lease, with no forwarding of reads and no gap when the leader changes.
//
// The view (BuildPgMap): for every pool of the OSDMap and every seed in
// [0, pg_num), the PG's state and sizes come from its primary's report (the
// OSD reporting the PG with `primary` equal to its own id; the newest epoch
// wins when two claim it during a change). A PG no primary reports is
// "unknown". Every reporter of a PG, primary or not, adds one entry to its
// `copies`, so a caller can check that every copy exists and agrees.
// Reports are ignored when their OSD is down or gone from the OSDMap, when
// they predate the OSD's last boot (epoch < up_from), or when they are older
// than `max_age_ms` (option mon_pg_stats_max_age).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cluster/placement.h"
#include "mon.pb.h"
#include "osd.pb.h"

namespace nacre::mon {

// One OSD's copy of a PG, as that OSD reported it.
struct PgCopy {
  int32_t osd = -1;
  uint64_t num_objects = 0;
  uint64_t num_bytes = 0;
  uint64_t digest = 0;
  std::string last_update;  // "epoch'v"
};

struct PgView {
  placement::PgId pgid;
  std::string state = "unknown";
  std::vector<int32_t> up, acting;
  int32_t primary = -1;
  uint64_t num_objects = 0;  // the primary's copy
  uint64_t num_bytes = 0;
  uint64_t num_missing = 0;
  std::string last_update = "0'0";
  uint64_t epoch = 0;  // of the primary's report; 0 while unknown
  std::vector<PgCopy> copies;  // by OSD id
};

struct PgMapView {
  std::vector<PgView> pgs;  // by pool, then seed
  // Fresh osd_stat per reporting OSD.
  std::map<int32_t, proto::OsdStatProto> osd_stats;
  std::map<std::string, int> by_state;  // state -> PG count
  int num_pools = 0;
  uint64_t num_objects = 0;  // summed over primaries
  uint64_t data_bytes = 0;   // summed over primaries
  uint64_t kb = 0, kb_used = 0, kb_avail = 0;  // summed over osd_stats

  // True if every PG's state has both "active" and "clean" among its parts
  // and not "stale" ("active+clean+scrubbing" is clean; "unknown",
  // "active+degraded", "stale+active+clean" are not).
  bool AllClean() const;
};

// True if the state has `word` among its '+'-separated parts.
bool StateHas(const std::string& state, const std::string& word);
// "epoch'v", Ceph's eversion spelling.
std::string EVersionString(const proto::EVersion& v);
// Ceph's byte spelling: "0 B", "12 KiB", "1.2 GiB", "30 GiB".
std::string FormatBytes(uint64_t bytes);

class PgStatsStore {
 public:
  explicit PgStatsStore(int64_t max_age_ms = 60000) : max_age_ms_(max_age_ms) {}

  // Keeps `r` as osd r.osd()'s latest report unless it is older (by
  // stamp_ms) than the one held: a relayed copy can arrive after a newer
  // direct one when the OSD moved to another monitor. Reports of OSDs the
  // OSDMap does not know are refused, so memory stays bounded by the map.
  // Returns false if the report was not kept.
  bool Ingest(const proto::OsdPgStats& r, int64_t now_ms, const proto::OSDMapProto& om);
  // Forgets OSDs gone from the map and reports too old to ever count again.
  void Prune(const proto::OSDMapProto& om, int64_t now_ms);
  // The aggregated view against `om` at `now_ms`.
  PgMapView Build(const proto::OSDMapProto& om, int64_t now_ms) const;

  size_t size() const { return by_osd_.size(); }
  int64_t max_age_ms() const { return max_age_ms_; }

 private:
  struct Entry {
    proto::OsdPgStats report;
    int64_t received_ms = 0;
  };
  bool Fresh(const Entry& e, const proto::OSDMapProto& om, int64_t now_ms) const;

  int64_t max_age_ms_;
  std::map<int32_t, Entry> by_osd_;
};

}  // namespace nacre::mon
