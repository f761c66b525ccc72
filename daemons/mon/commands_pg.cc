// `pg stat`, `pg dump`, `pg ls [STATES...]` and `osd df`, from the OSDs' PG
// reports (pg_stats.h) and the OSDMap, in Ceph's shapes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "daemons/mon/commands.h"

namespace nacre::mon {

// Columns padded to their widest cell, two spaces apart; right-aligned
// unless listed in `left` (Ceph's TextTable look).
std::string RenderTable(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& left) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      std::string pad(w[i] - r[i].size(), ' ');
      bool l = i < left.size() && left[i];
      line += (i ? "  " : "") + (l ? r[i] + pad : pad + r[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace {

std::string OsdList(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::string Hex64(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Fixed(double v, int digits) {
  char buf[48];
  snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// States by count, most common first (ties by name), as `pg stat` and
// `status` list them.
std::vector<std::pair<std::string, int>> StatesByCount(const PgMapView& v) {
  std::vector<std::pair<std::string, int>> s(v.by_state.begin(), v.by_state.end());
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  return s;
}

nlohmann::json PgJson(const PgView& pg) {
  nlohmann::json copies = nlohmann::json::array();
  for (const auto& c : pg.copies)
    copies.push_back({{"osd", c.osd}, {"num_objects", c.num_objects}, {"num_bytes", c.num_bytes},
                      {"digest", Hex64(c.digest)}, {"last_update", c.last_update}});
  return {{"pgid", pg.pgid.ToString()},
          {"state", pg.state},
          {"up", pg.up},
          {"acting", pg.acting},
          {"primary", pg.primary},
          {"up_primary", pg.up.empty() ? -1 : pg.up.front()},
          {"acting_primary", pg.primary},
          {"num_objects", pg.num_objects},
          {"num_bytes", pg.num_bytes},
          {"num_missing", pg.num_missing},
          {"last_update", pg.last_update},
          {"reported_epoch", pg.epoch},
          {"copies", copies}};
}

std::vector<std::string> PgRow(const PgView& pg) {
  return {pg.pgid.ToString(), std::to_string(pg.num_objects), std::to_string(pg.num_missing),
          std::to_string(pg.num_bytes), pg.state, pg.last_update, OsdList(pg.up),
          std::to_string(pg.up.empty() ? -1 : pg.up.front()), OsdList(pg.acting), std::to_string(pg.primary),
          std::to_string(pg.copies.size())};
}

const std::vector<std::string> kPgHeader = {"PG_STAT", "OBJECTS", "MISSING_ON_PRIMARY", "BYTES", "STATE", "VERSION",
                                            "UP", "UP_PRIMARY", "ACTING", "ACTING_PRIMARY", "COPIES"};
const std::vector<bool> kPgLeft = {true, false, false, false, true, false, true, false, true, false, false};

CommandOutcome PgStat(const proto::CommandRequest&, const CommandContext& c) {
  PgMapView v = BuildPgView(c);
  CommandOutcome o;
  nlohmann::json states = nlohmann::json::array();
  std::ostringstream os;
  os << v.pgs.size() << " pgs: ";
  auto by = StatesByCount(v);
  for (size_t i = 0; i < by.size(); ++i) {
    os << (i ? ", " : "") << by[i].second << " " << by[i].first;
    states.push_back({{"name", by[i].first}, {"num", by[i].second}});
  }
  os << "; " << FormatBytes(v.data_bytes) << " data, " << FormatBytes(v.kb_used * 1024) << " used, "
     << FormatBytes(v.kb_avail * 1024) << " / " << FormatBytes(v.kb * 1024) << " avail\n";
  o.text = os.str();
  o.json = {{"pg_summary",
             {{"num_pg_by_state", states},
              {"num_pgs", v.pgs.size()},
              {"num_objects", v.num_objects},
              {"num_bytes", v.data_bytes},
              {"total_bytes", v.kb * 1024},
              {"total_avail_bytes", v.kb_avail * 1024},
              {"total_used_bytes", v.kb_used * 1024}}}};
  return o;
}

CommandOutcome PgDump(const proto::CommandRequest&, const CommandContext& c) {
  PgMapView v = BuildPgView(c);
  CommandOutcome o;
  nlohmann::json pgs = nlohmann::json::array(), osds = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {kPgHeader};
  for (const auto& pg : v.pgs) {
    pgs.push_back(PgJson(pg));
    rows.push_back(PgRow(pg));
  }
  std::vector<std::vector<std::string>> osd_rows = {{"OSD_STAT", "USED", "AVAIL", "TOTAL", "PGS"}};
  for (const auto& [id, s] : v.osd_stats) {
    osds.push_back({{"osd", id}, {"kb", s.kb()}, {"kb_used", s.kb_used()}, {"kb_avail", s.kb_avail()}, {"num_pgs", s.num_pgs()}});
    osd_rows.push_back({std::to_string(id), FormatBytes(s.kb_used() * 1024), FormatBytes(s.kb_avail() * 1024),
                        FormatBytes(s.kb() * 1024), std::to_string(s.num_pgs())});
  }
  osd_rows.push_back({"sum", FormatBytes(v.kb_used * 1024), FormatBytes(v.kb_avail * 1024), FormatBytes(v.kb * 1024), ""});
  o.json = {{"pg_stats", pgs}, {"osd_stats", osds}, {"osdmap_epoch", c.maps.osdmap().epoch()}};
  o.text = RenderTable(rows, kPgLeft) + "\n" + RenderTable(osd_rows, {true}) + "dumped all\n";
  return o;
}

// `pg ls [POOL] [STATES...]`: PGs having any of the given state words (all
// PGs without any), optionally of one pool (its id, as `pool` or as the
// first word of `states`).
CommandOutcome PgLs(const proto::CommandRequest& r, const CommandContext& c) {
  std::vector<std::string> want = ArgList(r, "states");
  int64_t pool = -1;
  std::string pool_arg = ArgOr(r, "pool", "");
  // Ceph's `pg ls [POOL] [STATES...]`: a leading number among the words is the pool id.
  if (pool_arg.empty() && !want.empty() && want[0].find_first_not_of("0123456789") == std::string::npos) {
    pool_arg = want[0];
    want.erase(want.begin());
  }
  if (!pool_arg.empty()) {
    char* end = nullptr;
    long long p = strtoll(pool_arg.c_str(), &end, 10);
    if (*end || p < 0) return Fail(Invalid("pool must be a pool id, got '" + pool_arg + "'"));
    if (!c.maps.osdmap().pools().count(p)) return Fail(NotFound("pool " + pool_arg + " does not exist"));
    pool = p;
  }
  PgMapView v = BuildPgView(c);
  CommandOutcome o;
  nlohmann::json pgs = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {kPgHeader};
  for (const auto& pg : v.pgs) {
    if (pool >= 0 && pg.pgid.pool != pool) continue;
    bool match = want.empty();
    for (const auto& w : want) match |= StateHas(pg.state, w);
    if (!match) continue;
    pgs.push_back(PgJson(pg));
    rows.push_back(PgRow(pg));
  }
  o.json = {{"pg_stats", pgs}};
  o.text = rows.size() > 1 ? RenderTable(rows, kPgLeft) : "";
  return o;
}

CommandOutcome OsdDf(const proto::CommandRequest&, const CommandContext& c) {
  PgMapView v = BuildPgView(c);
  CommandOutcome o;
  nlohmann::json nodes = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "CLASS", "WEIGHT", "REWEIGHT", "SIZE", "RAW USE", "AVAIL", "%USE", "PGS", "STATUS"}};
  uint64_t kb = 0, used = 0, avail = 0;
  // The proto map is unordered: list OSDs by id.
  std::vector<int32_t> ids;
  for (const auto& [id, osd] : c.maps.osdmap().osds()) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (int32_t id : ids) {
    const auto& osd = c.maps.osdmap().osds().at(id);
    proto::OsdStatProto s;
    if (auto it = v.osd_stats.find(id); it != v.osd_stats.end()) s = it->second;
    double util = s.kb() ? 100.0 * static_cast<double>(s.kb_used()) / static_cast<double>(s.kb()) : 0.0;
    double weight = osd.crush_weight() / 65536.0, reweight = osd.weight() / 65536.0;
    const char* status = osd.up() ? "up" : "down";
    kb += s.kb();
    used += s.kb_used();
    avail += s.kb_avail();
    rows.push_back({std::to_string(id), osd.device_class(), Fixed(weight, 5), Fixed(reweight, 5), FormatBytes(s.kb() * 1024),
                    FormatBytes(s.kb_used() * 1024), FormatBytes(s.kb_avail() * 1024), Fixed(util, 2),
                    std::to_string(s.num_pgs()), status});
    nodes.push_back({{"id", id}, {"device_class", osd.device_class()}, {"name", "osd." + std::to_string(id)},
                     {"type", "osd"}, {"crush_weight", weight}, {"reweight", reweight}, {"kb", s.kb()},
                     {"kb_used", s.kb_used()}, {"kb_avail", s.kb_avail()}, {"utilization", util},
                     {"pgs", s.num_pgs()}, {"status", status}});
  }
  double avg = kb ? 100.0 * static_cast<double>(used) / static_cast<double>(kb) : 0.0;
  rows.push_back({"TOTAL", "", "", "", FormatBytes(kb * 1024), FormatBytes(used * 1024), FormatBytes(avail * 1024),
                  Fixed(avg, 2), "", ""});
  o.json = {{"nodes", nodes},
            {"stray", nlohmann::json::array()},
            {"summary", {{"total_kb", kb}, {"total_kb_used", used}, {"total_kb_avail", avail}, {"average_utilization", avg}}}};
  o.text = RenderTable(rows, {false, true, false, false, false, false, false, false, false, true});
  return o;
}

}  // namespace

// `status` shares the PG summary: the lines of its `data:` section.
std::string PgStatusLines(const PgMapView& v, nlohmann::json* pgmap) {
  std::ostringstream os;
  os << "    objects: " << v.num_objects << " objects, " << FormatBytes(v.data_bytes) << "\n";
  os << "    usage:   " << FormatBytes(v.kb_used * 1024) << " used, " << FormatBytes(v.kb_avail * 1024) << " / "
     << FormatBytes(v.kb * 1024) << " avail\n";
  auto by = StatesByCount(v);
  nlohmann::json states = nlohmann::json::array();
  int inactive = 0;
  for (const auto& pg : v.pgs) inactive += !StateHas(pg.state, "active");
  os << "    pgs:";
  if (!v.pgs.empty()) os << "     ";
  bool first = true;
  if (inactive > 0 && !v.pgs.empty()) {
    // Ceph leads with the share of PGs that serve no I/O.
    bool all_unknown = v.by_state.count("unknown") && v.by_state.at("unknown") == inactive;
    os << Fixed(100.0 * inactive / static_cast<double>(v.pgs.size()), 3) << "% pgs "
       << (all_unknown ? "unknown" : "not active") << "\n";
    first = false;
  }
  for (const auto& [state, n] : by) {
    os << (first ? "" : "             ") << n << " " << state << "\n";
    first = false;
    states.push_back({{"state_name", state}, {"count", n}});
  }
  if (first) os << "\n";
  *pgmap = {{"num_pgs", v.pgs.size()},
            {"num_pools", v.num_pools},
            {"pgs_by_state", states},
            {"num_objects", v.num_objects},
            {"data_bytes", v.data_bytes},
            {"bytes_used", v.kb_used * 1024},
            {"bytes_avail", v.kb_avail * 1024},
            {"bytes_total", v.kb * 1024}};
  return os.str();
}

void AddPgCommands(CommandTable* t) {
  (*t)["pg stat"] = {false, PgStat};
  (*t)["pg dump"] = {false, PgDump};
  (*t)["pg ls"] = {false, PgLs};
  (*t)["osd df"] = {false, OsdDf};
}

}  // namespace nacre::mon
