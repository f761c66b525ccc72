// Monitor admin commands: pure handlers from (request, maps) to a reply and,
// for writes, the MonUpdate that must commit before the reply is sent.
//
// Handlers never do I/O. Reads run against the committed maps; writes run on
// the leader against the projected maps (committed plus what is already
// proposed), so two writes in flight see each other: a second `osd pool
// create` of the same name is refused even before the first commits.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "admin.pb.h"
#include "common/status.h"
#include "daemons/mon/cluster_maps.h"
#include "daemons/mon/mds_monitor.h"
#include "daemons/mon/pg_stats.h"
#include "mon.pb.h"

namespace nacre::mon {

// What the monitor knows of the quorum, for status commands.
struct QuorumInfo {
  std::string my_name;
  int my_rank = -1;
  std::string leader_name;          // empty while electing
  std::vector<std::string> quorum;  // names, by rank
  uint64_t election_epoch = 0;
  uint64_t first_committed = 0;
  uint64_t last_committed = 0;
  int64_t quorum_age_ms = 0;
};

struct CommandContext {
  const ClusterMaps& maps;
  const QuorumInfo& quorum;
  int64_t now_ms = 0;
  // The OSDs' PG reports (pg_stats.h). Null: no PG information at all (the
  // PG health checks are then skipped; `pg ...` shows every PG unknown).
  const PgStatsStore* pg_stats = nullptr;
  // The MDS beacons' statistics (mds_monitor.h). Null: none known (`fs
  // status` shows no activity, the MDS statistics health checks are skipped).
  const MdsStatsMap* mds_stats = nullptr;
  // Beacon statistics older than this are stale (mds_beacon_grace).
  int64_t mds_grace_ms = 15000;
};

struct CommandOutcome {
  Status status;
  nlohmann::json json;       // structured result
  std::string text;          // plain output
  proto::MonUpdate update;   // writes: what to commit before replying
  bool HasUpdate() const {
    return update.osdmap().ops_size() || update.auth_size() || update.config_size() || update.monmap_size() ||
           update.fsmap_size();
  }
};

// True for commands that change maps (they run on the leader).
bool IsWriteCommand(const std::string& prefix);
// False if no handler has this prefix.
bool IsKnownCommand(const std::string& prefix);
CommandOutcome HandleCommand(const proto::CommandRequest& req, const CommandContext& ctx);

// ---- shared by the handler files ------------------------------------------
using Handler = std::function<CommandOutcome(const proto::CommandRequest&, const CommandContext&)>;
struct CommandSpec {
  bool write;
  Handler fn;
};
using CommandTable = std::map<std::string, CommandSpec>;
void AddOsdCommands(CommandTable* t);
void AddPoolCommands(CommandTable* t);
void AddClusterCommands(CommandTable* t);
void AddAuthConfigCommands(CommandTable* t);
void AddFsCommands(CommandTable* t);
void AddFsStatusCommands(CommandTable* t);
void AddPgCommands(CommandTable* t);

// Argument helpers: each returns a Status naming the argument on bad input.
Result<std::string> ArgString(const proto::CommandRequest& r, const std::string& name);
std::string ArgOr(const proto::CommandRequest& r, const std::string& name, const std::string& def);
Result<int64_t> ArgInt(const proto::CommandRequest& r, const std::string& name, int64_t lo, int64_t hi);
bool ArgFlag(const proto::CommandRequest& r, const std::string& name);
// Space-separated list argument ("0 1 2").
std::vector<std::string> ArgList(const proto::CommandRequest& r, const std::string& name);

inline CommandOutcome Fail(Status s) {
  CommandOutcome o;
  o.status = std::move(s);
  return o;
}

// Health checks computed from the maps and the quorum (HEALTH_OK/WARN/ERR).
struct HealthCheck {
  std::string code;      // MON_DOWN, OSD_DOWN, ...
  std::string severity;  // HEALTH_WARN | HEALTH_ERR
  std::string summary;
  std::vector<std::string> detail;
};
std::vector<HealthCheck> ComputeHealth(const CommandContext& ctx);
// The PG view of ctx (empty stats when ctx.pg_stats is null).
PgMapView BuildPgView(const CommandContext& ctx);
// PG_AVAILABILITY and PG_DEGRADED from the PG view (pg_health.cc).
void AddPgHealthChecks(const CommandContext& ctx, const PgMapView& v, std::vector<HealthCheck>* out);
// The objects/usage/pgs lines of `status`'s data section, and its "pgmap" JSON.
std::string PgStatusLines(const PgMapView& v, nlohmann::json* pgmap);
std::string OverallHealth(const std::vector<HealthCheck>& checks);
// MDS_ALL_DOWN, FS_DEGRADED, MDS_SLOW_REQUEST, MDS_CACHE_OVERSIZED,
// MDS_INSUFFICIENT_STANDBY (commands_fs_status.cc).
void AddMdsHealthChecks(const CommandContext& ctx, std::vector<HealthCheck>* out);
// The `mds:` line of `status`: "cephfs:1 {0=a=up:active} 1 up:standby";
// empty when there is no filesystem and no MDS.
std::string MdsStatusSummary(const proto::FSMapProto& f);
// A new pool from `osd pool create`'s arguments (pool, pg_num, pool_type,
// erasure_code_profile, size, application), validated; no id or epoch yet.
Result<proto::PoolInfo> MakePool(const proto::CommandRequest& r, const ClusterMaps& maps);
// Rows padded to the widest cell per column (Ceph's TextTable look);
// right-aligned unless `left` says so.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& left);

}  // namespace nacre::mon
