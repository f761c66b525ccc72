// `osd ls|dump|tree|out|in|down` commands.
#include <sstream>

#include "daemons/mon/commands.h"
#include "daemons/mon/osd_tree.h"

namespace nacre::mon {

namespace {

nlohmann::json OsdJson(const proto::OsdInfo& o) {
  return {{"osd", o.id()},
          {"uuid", o.uuid()},
          {"up", o.up() ? 1 : 0},
          {"in", o.in() ? 1 : 0},
          {"weight", o.weight() / 65536.0},
          {"crush_weight", o.crush_weight() / 65536.0},
          {"host", o.host()},
          {"device_class", o.device_class()},
          {"addr", o.addr().host() + ":" + std::to_string(o.addr().port())},
          {"up_from", o.up_from()},
          {"down_at", o.down_at()}};
}

CommandOutcome OsdLs(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  o.json = nlohmann::json::array();
  for (const auto& [id, osd] : c.maps.osdmap().osds()) {
    o.json.push_back(id);
    o.text += std::to_string(id) + "\n";
  }
  return o;
}

CommandOutcome OsdDump(const proto::CommandRequest&, const CommandContext& c) {
  const auto& m = c.maps.osdmap();
  CommandOutcome o;
  nlohmann::json pools = nlohmann::json::array(), osds = nlohmann::json::array();
  std::ostringstream os;
  os << "epoch " << m.epoch() << "\nfsid " << m.fsid() << "\nmax_osd " << m.max_osd() << "\n\n";
  for (const auto& [id, p] : m.pools()) {
    pools.push_back({{"pool", id}, {"pool_name", p.name()}, {"size", p.size()}, {"min_size", p.min_size()},
                     {"pg_num", p.pg_num()}, {"crush_rule", p.crush_rule()}});
    os << "pool " << id << " '" << p.name() << "' " << (p.type() == proto::POOL_TYPE_ERASURE ? "erasure" : "replicated")
       << " size " << p.size() << " min_size " << p.min_size() << " pg_num " << p.pg_num() << "\n";
  }
  os << "\n";
  for (const auto& [id, osd] : m.osds()) {
    osds.push_back(OsdJson(osd));
    os << "osd." << id << " " << (osd.up() ? "up  " : "down") << " " << (osd.in() ? "in " : "out") << " weight "
       << osd.weight() / 65536.0 << " up_from " << osd.up_from() << " " << osd.addr().host() << ":"
       << osd.addr().port() << "\n";
  }
  o.json = {{"epoch", m.epoch()}, {"fsid", m.fsid()}, {"max_osd", m.max_osd()}, {"pools", pools}, {"osds", osds}};
  o.text = os.str();
  return o;
}

// Resolves "0 1 osd.2" (or "all"/"any") to existing OSD ids.
Result<std::vector<int32_t>> OsdIds(const proto::CommandRequest& r, const CommandContext& c) {
  std::vector<std::string> words = ArgList(r, "ids");
  if (words.empty()) return Invalid("missing required argument 'ids'");
  std::vector<int32_t> ids;
  for (std::string w : words) {
    if (w == "all" || w == "any") {
      for (const auto& [id, o] : c.maps.osdmap().osds()) ids.push_back(id);
      continue;
    }
    if (w.rfind("osd.", 0) == 0) w = w.substr(4);
    char* end = nullptr;
    long v = strtol(w.c_str(), &end, 10);
    if (w.empty() || *end || v < 0 || v > INT32_MAX) return Invalid("invalid osd id '" + w + "'");
    if (!c.maps.Osd(static_cast<int32_t>(v))) return NotFound("osd." + w + " does not exist");
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

// out/in/down share one shape: change a flag on each OSD that needs it.
CommandOutcome OsdMark(const proto::CommandRequest& r, const CommandContext& c, const char* what) {
  auto ids = OsdIds(r, c);
  if (!ids.ok()) return Fail(ids.status());
  CommandOutcome o;
  proto::OSDMapIncremental inc;
  inc.set_epoch(c.maps.osdmap().epoch() + 1);
  std::string w = what;
  for (int32_t id : *ids) {
    proto::OsdInfo osd = *c.maps.Osd(id);
    bool change = (w == "out" && osd.in()) || (w == "in" && !osd.in()) || (w == "down" && osd.up());
    if (!change) {
      o.text += "osd." + std::to_string(id) + " is already " + (w == "in" ? "in" : w) + ". \n";
      continue;
    }
    if (w == "out") { osd.set_in(false); osd.set_weight(0); }
    if (w == "in") { osd.set_in(true); osd.set_weight(0x10000); }
    if (w == "down") {
      osd.set_up(false);
      osd.set_down_at(inc.epoch());
      osd.set_down_stamp_ms(c.now_ms);
    }
    *inc.add_ops()->mutable_osd_upsert() = osd;
    o.text += "marked " + w + " osd." + std::to_string(id) + ". \n";
  }
  if (inc.ops_size()) *o.update.mutable_osdmap() = inc;
  return o;
}

CommandOutcome OsdTree(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  Status s = RenderOsdTree(c.maps.osdmap(), &o.json, &o.text);
  if (!s.ok()) return Fail(s);
  return o;
}

}  // namespace

void AddOsdCommands(CommandTable* t) {
  (*t)["osd ls"] = {false, OsdLs};
  (*t)["osd dump"] = {false, OsdDump};
  (*t)["osd tree"] = {false, OsdTree};
  (*t)["osd out"] = {true, [](const auto& r, const auto& c) { return OsdMark(r, c, "out"); }};
  (*t)["osd in"] = {true, [](const auto& r, const auto& c) { return OsdMark(r, c, "in"); }};
  (*t)["osd down"] = {true, [](const auto& r, const auto& c) { return OsdMark(r, c, "down"); }};
}

}  // namespace nacre::mon
