// `status` (-s), `health [detail]`, `mon stat`, `quorum_status`, and the
// health checks behind them.
#include <algorithm>
#include <sstream>

#include "daemons/mon/commands.h"

namespace nacre::mon {

std::vector<HealthCheck> ComputeHealth(const CommandContext& c) {
  std::vector<HealthCheck> out;
  const auto& mm = c.maps.monmap();
  std::vector<std::string> down;
  for (const auto& m : mm.mons())
    if (std::find(c.quorum.quorum.begin(), c.quorum.quorum.end(), m.name()) == c.quorum.quorum.end())
      down.push_back(m.name());
  if (!down.empty()) {
    HealthCheck h{"MON_DOWN", "HEALTH_WARN",
                  std::to_string(down.size()) + "/" + std::to_string(mm.mons_size()) + " mons down, quorum " , {}};
    for (size_t i = 0; i < c.quorum.quorum.size(); ++i) h.summary += (i ? "," : "") + c.quorum.quorum[i];
    for (const auto& d : down) h.detail.push_back("mon." + d + " is down (out of quorum)");
    out.push_back(std::move(h));
  }
  const auto& om = c.maps.osdmap();
  int up = 0, in = 0, down_in = 0;
  HealthCheck osd_down{"OSD_DOWN", "HEALTH_WARN", "", {}};
  for (const auto& [id, o] : om.osds()) {
    if (o.up()) ++up;
    if (o.in()) ++in;
    if (o.in() && !o.up()) {
      ++down_in;
      osd_down.detail.push_back("osd." + std::to_string(id) + " (" + (o.host().empty() ? "?" : o.host()) + ") is down");
    }
  }
  if (down_in) {
    osd_down.summary = std::to_string(down_in) + " osds down";
    out.push_back(std::move(osd_down));
  }
  AddMdsHealthChecks(c, &out);
  uint32_t max_size = 0;
  for (const auto& [id, p] : om.pools()) max_size = std::max(max_size, p.size());
  if (max_size > 0 && static_cast<uint32_t>(om.osds_size()) < max_size) {
    out.push_back({"TOO_FEW_OSDS", "HEALTH_WARN",
                   "OSD count " + std::to_string(om.osds_size()) + " < largest pool size " + std::to_string(max_size),
                   {}});
  }
  // Last: they look at the OSD checks above.
  if (c.pg_stats) AddPgHealthChecks(c, BuildPgView(c), &out);
  return out;
}

std::string OverallHealth(const std::vector<HealthCheck>& checks) {
  std::string s = "HEALTH_OK";
  for (const auto& h : checks) {
    if (h.severity == "HEALTH_ERR") return "HEALTH_ERR";
    s = "HEALTH_WARN";
  }
  return s;
}

namespace {

nlohmann::json HealthJson(const std::vector<HealthCheck>& checks) {
  nlohmann::json j = {{"status", OverallHealth(checks)}, {"checks", nlohmann::json::object()}};
  for (const auto& h : checks) {
    nlohmann::json d = nlohmann::json::array();
    for (const auto& line : h.detail) d.push_back({{"message", line}});
    j["checks"][h.code] = {{"severity", h.severity}, {"summary", {{"message", h.summary}}}, {"detail", d}};
  }
  return j;
}

std::string Age(int64_t ms) {
  int64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  return std::to_string(s / 3600) + "h";
}

std::string QuorumNames(const QuorumInfo& q) {
  std::string s;
  for (size_t i = 0; i < q.quorum.size(); ++i) s += (i ? "," : "") + q.quorum[i];
  return s;
}

CommandOutcome Health(const proto::CommandRequest& r, const CommandContext& c) {
  auto checks = ComputeHealth(c);
  CommandOutcome o;
  o.json = HealthJson(checks);
  bool detail = ArgFlag(r, "detail");
  std::ostringstream os;
  os << OverallHealth(checks);
  for (size_t i = 0; i < checks.size() && !detail; ++i) os << (i ? "; " : " ") << checks[i].summary;
  os << "\n";
  if (detail)
    for (const auto& h : checks) {
      os << "[" << (h.severity == "HEALTH_ERR" ? "ERR" : "WRN") << "] " << h.code << ": " << h.summary << "\n";
      for (const auto& d : h.detail) os << "    " << d << "\n";
    }
  o.text = os.str();
  return o;
}

CommandOutcome Status_(const proto::CommandRequest&, const CommandContext& c) {
  auto checks = ComputeHealth(c);
  const auto& om = c.maps.osdmap();
  int up = 0, in = 0;
  uint64_t pgs = 0;
  for (const auto& [id, o] : om.osds()) {
    up += o.up();
    in += o.in();
  }
  for (const auto& [id, p] : om.pools()) pgs += p.pg_num();
  nlohmann::json pgmap;
  std::string pg_lines = PgStatusLines(BuildPgView(c), &pgmap);
  CommandOutcome o;
  o.json = {{"fsid", c.maps.monmap().fsid()},
            {"health", HealthJson(checks)},
            {"election_epoch", c.quorum.election_epoch},
            {"quorum_names", c.quorum.quorum},
            {"quorum_age", c.quorum.quorum_age_ms / 1000},
            {"monmap", {{"epoch", c.maps.monmap().epoch()}, {"num_mons", c.maps.monmap().mons_size()}}},
            {"fsmap", {{"epoch", c.maps.fsmap().epoch()}, {"summary", MdsStatusSummary(c.maps.fsmap())}}},
            {"osdmap", {{"epoch", om.epoch()}, {"num_osds", om.osds_size()}, {"num_up_osds", up}, {"num_in_osds", in}}},
            {"pgmap", pgmap}};
  std::ostringstream os;
  os << "  cluster:\n    id:     " << c.maps.monmap().fsid() << "\n    health: " << OverallHealth(checks) << "\n";
  for (const auto& h : checks) os << "            " << h.summary << "\n";
  os << "\n  services:\n    mon: " << c.maps.monmap().mons_size() << " daemons, quorum " << QuorumNames(c.quorum)
     << " (age " << Age(c.quorum.quorum_age_ms) << ")\n";
  if (std::string mds = MdsStatusSummary(c.maps.fsmap()); !mds.empty()) os << "    mds: " << mds << "\n";
  os << "    osd: " << om.osds_size() << " osds: " << up << " up, " << in << " in\n";
  os << "\n  data:\n    pools:   " << om.pools_size() << " pools, " << pgs << " pgs\n" << pg_lines;
  o.text = os.str();
  return o;
}

CommandOutcome MonStat(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  const auto& mm = c.maps.monmap();
  std::ostringstream os;
  os << "e" << mm.epoch() << ": " << mm.mons_size() << " mons at {";
  nlohmann::json mons = nlohmann::json::array();
  for (int i = 0; i < mm.mons_size(); ++i) {
    const auto& m = mm.mons(i);
    std::string addr = m.addr().host() + ":" + std::to_string(m.addr().port());
    os << (i ? "," : "") << m.name() << "=" << addr;
    mons.push_back({{"name", m.name()}, {"rank", m.rank()}, {"addr", addr}});
  }
  os << "}, election epoch " << c.quorum.election_epoch << ", leader " << c.quorum.leader_name << ", quorum "
     << QuorumNames(c.quorum) << "\n";
  o.text = os.str();
  o.json = {{"epoch", mm.epoch()}, {"mons", mons}, {"election_epoch", c.quorum.election_epoch},
            {"leader", c.quorum.leader_name}, {"quorum_names", c.quorum.quorum}};
  return o;
}

CommandOutcome QuorumStatus(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  const auto& mm = c.maps.monmap();
  nlohmann::json mons = nlohmann::json::array();
  std::vector<int> ranks;
  for (const auto& m : mm.mons()) {
    mons.push_back({{"rank", m.rank()},
                    {"name", m.name()},
                    {"addr", m.addr().host() + ":" + std::to_string(m.addr().port())},
                    {"admin_addr", m.admin_addr().host() + ":" + std::to_string(m.admin_addr().port())}});
    if (std::find(c.quorum.quorum.begin(), c.quorum.quorum.end(), m.name()) != c.quorum.quorum.end())
      ranks.push_back(m.rank());
  }
  o.json = {{"election_epoch", c.quorum.election_epoch},
            {"quorum", ranks},
            {"quorum_names", c.quorum.quorum},
            {"quorum_leader_name", c.quorum.leader_name},
            {"quorum_age", c.quorum.quorum_age_ms / 1000},
            {"paxos", {{"first_committed", c.quorum.first_committed}, {"last_committed", c.quorum.last_committed}}},
            {"monmap", {{"epoch", mm.epoch()}, {"fsid", mm.fsid()}, {"mons", mons}}}};
  // Ceph prints quorum_status as JSON even in plain mode.
  o.text = o.json.dump(4) + "\n";
  return o;
}

}  // namespace

void AddClusterCommands(CommandTable* t) {
  (*t)["status"] = {false, Status_};
  (*t)["health"] = {false, Health};
  (*t)["mon stat"] = {false, MonStat};
  (*t)["quorum_status"] = {false, QuorumStatus};
}

}  // namespace nacre::mon
