// MdsMonitor: the monitor's decisions about MDS daemons and filesystem ranks,
// as a pure object driven by beacons and the clock (the Monitor does the
// I/O and commits what it returns). doc/filesystem.md "Ranks and the FSMap".
//
// - Registration: a beacon from a name the FSMap does not know registers it
//   as a standby (a new gid = gid_max + 1, fs_id -1, rank -1, up:standby).
//   A beacon with another incarnation than the map's (the daemon restarted)
//   replaces the old registration by a fresh standby: a rank it held is
//   failed from that update on.
// - Assignment: for every joinable filesystem, every rank in [0, max_mds)
//   and every rank in `in` that no MDS holds is given to the standby with
//   the lowest gid: it is put in the map with fs_id, rank, up:replay, and
//   the rank joins `in` if it was not there. Ranks are never taken away
//   when max_mds shrinks (there is no up:stopping yet).
// - Activation: a beacon saying up:active from the MDS the map has in
//   up:replay for that same fs and rank makes it up:active.
// - Failure: an MDS silent for beacon_grace_ms is removed from the map; its
//   rank is then failed and goes to a standby in the same update.
// - An MDS holding a rank of a filesystem that no longer exists goes back
//   to standby (a new gid).
// - Statistics (clients, requests/s, cache, slow requests) of every beacon
//   are kept here, in memory only, like PG stats: every monitor records the
//   beacons it sees (peons get them relayed), so any monitor answers
//   `fs status` and health; only the active leader decides.
// Invariant of every update returned: at most one MDS per (fs_id, rank),
// and only MDSs in state up:standby have rank -1.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "daemons/mon/cluster_maps.h"
#include "mds.pb.h"
#include "mon.pb.h"

namespace nacre::mon {

inline constexpr char kMdsStandby[] = "up:standby";
inline constexpr char kMdsReplay[] = "up:replay";
inline constexpr char kMdsActive[] = "up:active";

struct MdsMonitorOptions {
  int64_t beacon_grace_ms = 15000;
};

// The latest beacon of one MDS, as `fs status` and health read it.
struct MdsStats {
  uint64_t incarnation = 0;
  std::string state;  // what the MDS said it is doing
  uint32_t clients = 0;
  double requests_per_sec = 0;
  uint64_t cache_bytes = 0;
  uint64_t cache_limit = 0;
  uint32_t slow_requests = 0;
  uint64_t inodes = 0;
  int64_t received_ms = 0;
};
using MdsStatsMap = std::map<std::string, MdsStats>;  // by MDS name ("a")

// Checks a beacon's MDS name: 1..64 letters, digits, '_', '-', '.'.
Status ValidMdsName(const std::string& name);

class MdsMonitor {
 public:
  explicit MdsMonitor(MdsMonitorOptions opts) : opts_(opts) {}

  // The monitor just became leader at `now_ms`: every MDS gets a full grace.
  void Reset(int64_t now_ms) { leader_since_ms_ = now_ms; }

  // Keeps the beacon's statistics and liveness (every monitor does this).
  void RecordBeacon(const proto::MdsBeacon& b, int64_t now_ms);
  // Leader: records the beacon and returns the update it calls for, if any.
  std::optional<proto::MonUpdate> HandleBeacon(const proto::MdsBeacon& b, const ClusterMaps& maps, int64_t now_ms);
  // Leader: removes silent MDSs and assigns failed or wanted ranks.
  std::optional<proto::MonUpdate> Tick(const ClusterMaps& maps, int64_t now_ms);
  // Forgets the statistics of MDSs no longer in the map and long silent.
  void Prune(const proto::FSMapProto& fsmap, int64_t now_ms);

  const MdsStatsMap& stats() const { return stats_; }
  int64_t grace_ms() const { return opts_.beacon_grace_ms; }

 private:
  MdsMonitorOptions opts_;
  int64_t leader_since_ms_ = 0;
  MdsStatsMap stats_;
};

// Gives every wanted or failed rank of the joinable filesystems of `f` to a
// standby, changing `f` and appending the same changes to `u` (shared with
// the `fs set` / `fs volume create` commands, so a rank is assigned as soon
// as it can be). Returns how many ranks it assigned.
int AssignRanks(proto::FSMapProto* f, proto::MonUpdate* u);

// Helpers that change a working FSMap copy and record the op in `u`.
void FsMapUpsertMds(proto::FSMapProto* f, const proto::MdsInfo& m, proto::MonUpdate* u);
void FsMapRemoveMds(proto::FSMapProto* f, const std::string& name, proto::MonUpdate* u);
void FsMapUpsertFs(proto::FSMapProto* f, const proto::FilesystemInfo& fs, proto::MonUpdate* u);

}  // namespace nacre::mon
