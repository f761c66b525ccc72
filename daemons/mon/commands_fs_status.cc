// `fs status [NAME]`, `mds stat`, the `mds:` line of `status`, and the MDS
// health checks: read-only views of the FSMap plus the MDS beacons'
// statistics (MdsStatsMap, in memory on every monitor, never in the map).
//
// A rank is "failed" when it is in the filesystem's `in` and no MDS holds
// it; a held rank is degraded until its MDS is up:active.
#include <cstdio>
#include <set>
#include <sstream>

#include "daemons/mon/commands_fs_common.h"

namespace nacre::mon {

namespace {

// Ceph's MDS_CACHE_OVERSIZED threshold (mds_health_cache_threshold).
constexpr double kCacheThreshold = 1.5;

std::string Short(const std::string& state) { return state.rfind("up:", 0) == 0 ? state.substr(3) : state; }

std::string Fixed1(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Beacon statistics of `name` if fresh, else null.
const MdsStats* StatsOf(const CommandContext& c, const std::string& name) {
  if (!c.mds_stats) return nullptr;
  auto it = c.mds_stats->find(name);
  if (it == c.mds_stats->end() || c.now_ms - it->second.received_ms > c.mds_grace_ms) return nullptr;
  return &it->second;
}

// Ranks of a filesystem, held or failed, in order: rank -> MDS (null: failed).
std::map<int32_t, const proto::MdsInfo*> Ranks(const proto::FSMapProto& f, const proto::FilesystemInfo& fs) {
  std::map<int32_t, const proto::MdsInfo*> ranks;
  for (int32_t r : fs.in()) ranks[r] = nullptr;
  for (const auto& [n, m] : f.mds())
    if (m.fs_id() == fs.id() && m.rank() >= 0) ranks[m.rank()] = &m;
  return ranks;
}

std::vector<const proto::MdsInfo*> Standbys(const proto::FSMapProto& f) {
  std::vector<const proto::MdsInfo*> out;
  for (const auto& [n, m] : f.mds())
    if (m.rank() < 0) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
  return out;
}

// Bytes stored in a pool, from the primaries' PG reports.
uint64_t PoolBytes(const PgMapView& v, int64_t pool) {
  uint64_t b = 0;
  for (const auto& pg : v.pgs)
    if (pg.pgid.pool == pool) b += pg.num_bytes;
  return b;
}

CommandOutcome FsStatus(const proto::CommandRequest& r, const CommandContext& c) {
  const auto& f = c.maps.fsmap();
  std::string only = ArgOr(r, "fs_name", "");
  if (!only.empty() && !FsByName(f, only)) return Fail(NotFound("filesystem '" + only + "' does not exist"));
  PgMapView v = BuildPgView(c);
  CommandOutcome o;
  nlohmann::json arr = nlohmann::json::array(), all_ranks = nlohmann::json::array(), all_pools = nlohmann::json::array(),
                 all_clients = nlohmann::json::array();
  std::ostringstream os;
  std::map<int32_t, proto::FilesystemInfo> fss(f.filesystems().begin(), f.filesystems().end());
  for (const auto& [id, fs] : fss) {
    if (!only.empty() && fs.name() != only) continue;
    auto ranks = Ranks(f, fs);
    uint32_t clients = 0;
    int active = 0;
    nlohmann::json jr = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows = {{"RANK", "STATE", "MDS", "ACTIVITY", "INOS", "CACHE"}};
    for (const auto& [rank, m] : ranks) {
      if (!m) {
        rows.push_back({std::to_string(rank), "failed", "", "", "", ""});
        jr.push_back({{"rank", rank}, {"state", "failed"}, {"name", ""}});
        continue;
      }
      active += m->state() == kMdsActive;
      const MdsStats* s = StatsOf(c, m->name());
      if (s) clients = std::max(clients, s->clients);  // every rank sees the same sessions today
      rows.push_back({std::to_string(rank), Short(m->state()), m->name(),
                      s ? "Reqs: " + Fixed1(s->requests_per_sec) + " /s" : "", s ? std::to_string(s->inodes) : "",
                      s ? FormatBytes(s->cache_bytes) : ""});
      jr.push_back({{"rank", rank},
                    {"state", Short(m->state())},
                    {"name", m->name()},
                    {"gid", m->gid()},
                    {"rate", s ? s->requests_per_sec : 0.0},
                    {"clients", s ? s->clients : 0},
                    {"inos", s ? s->inodes : 0},
                    {"cache_bytes", s ? s->cache_bytes : 0},
                    {"slow_requests", s ? s->slow_requests : 0}});
    }
    std::vector<std::vector<std::string>> prow = {{"POOL", "TYPE", "USED", "AVAIL"}};
    nlohmann::json jp = nlohmann::json::array();
    std::vector<std::pair<int64_t, std::string>> pools = {{fs.metadata_pool(), "metadata"}};
    for (int64_t p : fs.data_pools()) pools.push_back({p, "data"});
    for (const auto& [pid, type] : pools) {
      auto pit = c.maps.osdmap().pools().find(pid);
      uint32_t size = pit == c.maps.osdmap().pools().end() || pit->second.size() == 0 ? 1 : pit->second.size();
      // As `df` counts: raw use is every copy, what is left is divided by them.
      uint64_t used = PoolBytes(v, pid) * size;
      uint64_t avail = v.kb_avail * 1024 / size;
      prow.push_back({PoolName(c.maps, pid), type, FormatBytes(used), FormatBytes(avail)});
      jp.push_back({{"id", pid}, {"name", PoolName(c.maps, pid)}, {"type", type}, {"used", used}, {"avail", avail}});
    }
    nlohmann::json j = FsJson(c.maps, fs);
    j["active_ranks"] = active;
    j["clients"] = clients;
    j["mdsmap"] = jr;
    j["pools"] = jp;
    arr.push_back(j);
    for (const auto& x : jr) all_ranks.push_back(x);
    for (const auto& x : jp) all_pools.push_back(x);
    all_clients.push_back({{"fs", fs.name()}, {"clients", clients}});
    os << fs.name() << " - " << clients << " clients" << (fs.not_joinable() ? " (failed: not joinable)" : "") << "\n"
       << std::string(fs.name().size(), '=') << "\n"
       << RenderTable(rows, {false, true, true, true}) << RenderTable(prow, {true, true});
  }
  nlohmann::json js = nlohmann::json::array();
  auto standbys = Standbys(f);
  if (!standbys.empty()) {
    os << "STANDBY MDS\n";
    for (const auto* m : standbys) {
      os << "    " << m->name() << "\n";
      js.push_back({{"name", m->name()}, {"gid", m->gid()}, {"state", Short(m->state())}});
      all_ranks.push_back({{"name", m->name()}, {"state", "standby"}, {"gid", m->gid()}});
    }
  }
  if (fss.empty()) os << "No filesystems enabled\n";
  o.json = {{"filesystems", arr}, {"standbys", js}, {"mdsmap", all_ranks}, {"pools", all_pools},
            {"clients", all_clients}};
  o.text = os.str();
  return o;
}

CommandOutcome MdsStat(const proto::CommandRequest&, const CommandContext& c) {
  const auto& f = c.maps.fsmap();
  CommandOutcome o;
  std::string summary = MdsStatusSummary(f);
  o.text = "e" + std::to_string(f.epoch()) + (summary.empty() ? "" : " " + summary) + "\n";
  nlohmann::json mds = nlohmann::json::array();
  for (const auto& [n, m] : std::map<std::string, proto::MdsInfo>(f.mds().begin(), f.mds().end())) mds.push_back(MdsJson(m));
  o.json = {{"epoch", f.epoch()}, {"summary", summary}, {"mds", mds}};
  return o;
}

}  // namespace

std::string MdsStatusSummary(const proto::FSMapProto& f) {
  if (f.filesystems().empty() && f.mds().empty()) return "";
  std::ostringstream os;
  std::map<int32_t, proto::FilesystemInfo> fss(f.filesystems().begin(), f.filesystems().end());
  bool first = true;
  for (const auto& [id, fs] : fss) {
    auto ranks = Ranks(f, fs);
    int up = 0;
    std::string list;
    for (const auto& [rank, m] : ranks) {
      up += m != nullptr;
      list += (list.empty() ? "" : ",") + std::to_string(rank) + "=" + (m ? m->name() + "=" + m->state() : "failed");
    }
    os << (first ? "" : " ") << fs.name() << ":" << up << " {" << list << "}";
    first = false;
  }
  int standby = 0;
  for (const auto& [n, m] : f.mds()) standby += m.rank() < 0;
  if (standby > 0) os << (first ? "" : " ") << standby << " up:standby";
  return os.str();
}

void AddMdsHealthChecks(const CommandContext& c, std::vector<HealthCheck>* out) {
  const auto& f = c.maps.fsmap();
  std::map<int32_t, proto::FilesystemInfo> fss(f.filesystems().begin(), f.filesystems().end());
  HealthCheck offline{"MDS_ALL_DOWN", "HEALTH_ERR", "", {}};
  HealthCheck degraded{"FS_DEGRADED", "HEALTH_WARN", "", {}};
  HealthCheck standby{"MDS_INSUFFICIENT_STANDBY", "HEALTH_WARN", "insufficient standby MDS daemons available", {}};
  int standbys = static_cast<int>(Standbys(f).size());
  for (const auto& [id, fs] : fss) {
    auto ranks = Ranks(f, fs);
    int holders = 0;
    bool deg = false;
    for (const auto& [rank, m] : ranks) {
      holders += m != nullptr;
      deg |= !m || m->state() != kMdsActive;
    }
    // As in Ceph: offline when no MDS holds any rank (replaying counts as up;
    // FS_DEGRADED covers that).
    if (holders == 0) offline.detail.push_back("fs " + fs.name() + " is offline because no MDS is active for it.");
    if (deg) degraded.detail.push_back("fs " + fs.name() + " is degraded");
    if (fs.standby_count_wanted() > standbys)
      standby.detail.push_back("fs " + fs.name() + " has " + std::to_string(standbys) + " standby MDS daemons; wants " +
                               std::to_string(fs.standby_count_wanted()));
  }
  auto plural = [](size_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  if (!offline.detail.empty()) {
    offline.summary = plural(offline.detail.size(), "filesystem is offline", "filesystems are offline");
    out->push_back(std::move(offline));
  }
  if (!degraded.detail.empty()) {
    degraded.summary = plural(degraded.detail.size(), "filesystem is degraded", "filesystems are degraded");
    out->push_back(std::move(degraded));
  }
  if (!standby.detail.empty()) out->push_back(std::move(standby));
  if (!c.mds_stats) return;
  HealthCheck slow{"MDS_SLOW_REQUEST", "HEALTH_WARN", "", {}};
  HealthCheck cache{"MDS_CACHE_OVERSIZED", "HEALTH_WARN", "", {}};
  for (const auto& [name, m] : std::map<std::string, proto::MdsInfo>(f.mds().begin(), f.mds().end())) {
    const MdsStats* s = StatsOf(c, name);
    if (!s) continue;
    std::string who = "mds." + name + (m.rank() >= 0 ? "(mds." + std::to_string(m.rank()) + ")" : "");
    if (s->slow_requests > 0)
      slow.detail.push_back(who + ": " + std::to_string(s->slow_requests) + " slow requests are blocked");
    if (s->cache_limit > 0 && static_cast<double>(s->cache_bytes) > kCacheThreshold * static_cast<double>(s->cache_limit))
      cache.detail.push_back(who + ": MDS cache is too large (" + FormatBytes(s->cache_bytes) + "/" +
                             FormatBytes(s->cache_limit) + ")");
  }
  if (!slow.detail.empty()) {
    slow.summary = plural(slow.detail.size(), "MDS reports slow requests", "MDSs report slow requests");
    out->push_back(std::move(slow));
  }
  if (!cache.detail.empty()) {
    cache.summary = plural(cache.detail.size(), "MDS reports oversized cache", "MDSs report oversized cache");
    out->push_back(std::move(cache));
  }
}

void AddFsStatusCommands(CommandTable* t) {
  (*t)["fs status"] = {false, FsStatus};
  (*t)["mds stat"] = {false, MdsStat};
}

}  // namespace nacre::mon
