// `osd pool ...` and `osd erasure-code-profile ...` commands.
#include <set>
#include <sstream>

#include "daemons/mon/commands.h"

namespace nacre::mon {

namespace {

constexpr int64_t kMaxPgNum = 65536;
constexpr uint32_t kMaxPoolSize = 10;
constexpr size_t kMaxPoolName = 128;
constexpr int64_t kDefaultPgNum = 32;
constexpr uint32_t kDefaultSize = 3;

Status ValidPoolName(const std::string& n) {
  if (n.empty() || n.size() > kMaxPoolName) return Invalid("pool name must be 1.." + std::to_string(kMaxPoolName) + " characters");
  if (n[0] == '.' || n[0] == '-') return Invalid("pool name '" + n + "' may not start with '.' or '-'");
  for (char c : n)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return Invalid("pool name '" + n + "' has a character other than letters, digits, '_', '-', '.'");
  return Status::OK();
}

nlohmann::json PoolJson(const proto::PoolInfo& p) {
  return {{"pool_id", p.id()},
          {"pool_name", p.name()},
          {"type", p.type() == proto::POOL_TYPE_ERASURE ? "erasure" : "replicated"},
          {"size", p.size()},
          {"min_size", p.min_size()},
          {"pg_num", p.pg_num()},
          {"crush_rule", p.crush_rule()},
          {"application", p.application()},
          {"erasure_code_profile", p.ec_profile()},
          {"compression_mode", p.compression_mode().empty() ? "none" : p.compression_mode()},
          {"compression_algorithm", p.compression_algorithm()},
          {"target_max_bytes", p.target_max_bytes()}};
}

}  // namespace

Result<proto::PoolInfo> MakePool(const proto::CommandRequest& r, const ClusterMaps& maps) {
  NACRE_ASSIGN_OR_RETURN(std::string name, ArgString(r, "pool"));
  NACRE_RETURN_IF_ERROR(ValidPoolName(name));
  std::string type = ArgOr(r, "pool_type", "replicated");
  if (type != "replicated" && type != "erasure")
    return Invalid("pool type must be 'replicated' or 'erasure', got '" + type + "'");
  int64_t pg_num = kDefaultPgNum;
  if (r.args().count("pg_num")) {
    NACRE_ASSIGN_OR_RETURN(pg_num, ArgInt(r, "pg_num", 1, kMaxPgNum));
  }
  proto::PoolInfo p;
  p.set_name(name);
  p.set_pg_num(static_cast<uint32_t>(pg_num));
  p.set_crush_rule(0);
  p.set_application(ArgOr(r, "application", ""));
  if (type == "erasure") {
    std::string prof = ArgOr(r, "erasure_code_profile", "default");
    auto it = maps.osdmap().ec_profiles().find(prof);
    if (it == maps.osdmap().ec_profiles().end()) return NotFound("erasure-code-profile '" + prof + "' does not exist");
    int k = std::atoi(it->second.kv().count("k") ? it->second.kv().at("k").c_str() : "2");
    int m = std::atoi(it->second.kv().count("m") ? it->second.kv().at("m").c_str() : "1");
    p.set_type(proto::POOL_TYPE_ERASURE);
    p.set_ec_profile(prof);
    p.set_size(static_cast<uint32_t>(k + m));
    p.set_min_size(static_cast<uint32_t>(k + 1 <= k + m ? k + 1 : k));
  } else {
    uint32_t size = kDefaultSize;
    if (r.args().count("size")) {
      NACRE_ASSIGN_OR_RETURN(int64_t v, ArgInt(r, "size", 1, kMaxPoolSize));
      size = static_cast<uint32_t>(v);
    }
    p.set_type(proto::POOL_TYPE_REPLICATED);
    p.set_size(size);
    p.set_min_size(size - size / 2);  // Ceph's default: a majority of the copies
  }
  return p;
}

namespace {

CommandOutcome PoolCreate(const proto::CommandRequest& r, const CommandContext& c) {
  CommandOutcome o;
  auto made = MakePool(r, c.maps);
  if (!made.ok()) return Fail(made.status());
  proto::PoolInfo p = std::move(made).value();
  const std::string name = p.name();
  if (const proto::PoolInfo* existing = c.maps.PoolByName(name)) {
    // Ceph answers success for an identical existing pool.
    if (existing->type() != p.type()) return Fail(Exists("pool '" + name + "' exists with a different type"));
    o.text = "pool '" + name + "' already exists";
    o.json = PoolJson(*existing);
    return o;
  }
  p.set_id(c.maps.osdmap().pool_max() + 1);
  p.set_created_epoch(c.maps.osdmap().epoch() + 1);
  auto* inc = o.update.mutable_osdmap();
  inc->set_epoch(c.maps.osdmap().epoch() + 1);
  *inc->add_ops()->mutable_pool_upsert() = p;
  o.text = "pool '" + name + "' created";
  o.json = PoolJson(p);
  return o;
}

CommandOutcome PoolLs(const proto::CommandRequest& r, const CommandContext& c) {
  CommandOutcome o;
  bool detail = ArgFlag(r, "detail");
  o.json = nlohmann::json::array();
  std::ostringstream os;
  for (const auto& [id, p] : c.maps.osdmap().pools()) {
    if (detail) {
      o.json.push_back(PoolJson(p));
      os << "pool " << id << " '" << p.name() << "' " << (p.type() == proto::POOL_TYPE_ERASURE ? "erasure" : "replicated")
         << " size " << p.size() << " min_size " << p.min_size() << " crush_rule " << p.crush_rule() << " pg_num "
         << p.pg_num() << " application " << (p.application().empty() ? "-" : p.application()) << "\n";
    } else {
      o.json.push_back(p.name());
      os << p.name() << "\n";
    }
  }
  o.text = os.str();
  return o;
}

// The settable and gettable keys, with their valid ranges.
const std::set<std::string> kPoolKeys = {"size", "min_size", "pg_num", "crush_rule", "application",
                                         "compression_mode", "compression_algorithm", "target_max_bytes"};

CommandOutcome PoolGet(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "pool");
  if (!name.ok()) return Fail(name.status());
  const proto::PoolInfo* p = c.maps.PoolByName(*name);
  if (!p) return Fail(NotFound("unrecognized pool '" + *name + "'"));
  auto key = ArgString(r, "var");
  if (!key.ok()) return Fail(key.status());
  nlohmann::json all = PoolJson(*p);
  CommandOutcome o;
  if (*key == "all") {
    std::ostringstream os;
    for (const auto& k : kPoolKeys) os << k << ": " << (all[k].is_string() ? all[k].get<std::string>() : all[k].dump()) << "\n";
    o.json = all;
    o.text = os.str();
    return o;
  }
  if (!kPoolKeys.count(*key)) return Fail(Invalid("unrecognized variable '" + *key + "'"));
  o.json = {{"pool", p->name()}, {"pool_id", p->id()}, {*key, all[*key]}};
  o.text = *key + ": " + (all[*key].is_string() ? all[*key].get<std::string>() : all[*key].dump());
  return o;
}

CommandOutcome PoolSet(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "pool");
  if (!name.ok()) return Fail(name.status());
  const proto::PoolInfo* cur = c.maps.PoolByName(*name);
  if (!cur) return Fail(NotFound("unrecognized pool '" + *name + "'"));
  auto key = ArgString(r, "var");
  if (!key.ok()) return Fail(key.status());
  auto val = ArgString(r, "val");
  if (!val.ok()) return Fail(val.status());
  proto::PoolInfo p = *cur;
  auto num = [&](int64_t lo, int64_t hi) { return ArgInt(r, "val", lo, hi); };
  if (*key == "size") {
    if (p.type() == proto::POOL_TYPE_ERASURE) return Fail(Invalid("can not change the size of an erasure-coded pool"));
    auto v = num(1, kMaxPoolSize);
    if (!v.ok()) return Fail(v.status());
    p.set_size(static_cast<uint32_t>(*v));
    if (p.min_size() > p.size()) p.set_min_size(p.size());
  } else if (*key == "min_size") {
    auto v = num(1, p.size());
    if (!v.ok()) return Fail(Status(v.status().code(), "min_size must be between 1 and size (" + std::to_string(p.size()) + ")"));
    p.set_min_size(static_cast<uint32_t>(*v));
  } else if (*key == "pg_num") {
    auto v = num(1, kMaxPgNum);
    if (!v.ok()) return Fail(v.status());
    p.set_pg_num(static_cast<uint32_t>(*v));
  } else if (*key == "crush_rule") {
    auto v = num(0, 255);
    if (!v.ok()) return Fail(v.status());
    p.set_crush_rule(static_cast<int32_t>(*v));
  } else if (*key == "application") {
    p.set_application(*val);
  } else if (*key == "compression_mode") {
    if (*val != "none" && *val != "passive" && *val != "aggressive" && *val != "force")
      return Fail(Invalid("compression_mode must be none|passive|aggressive|force"));
    p.set_compression_mode(*val);
  } else if (*key == "compression_algorithm") {
    if (*val != "zstd" && *val != "none") return Fail(Invalid("compression_algorithm must be zstd or none"));
    p.set_compression_algorithm(*val);
  } else if (*key == "target_max_bytes") {
    auto v = num(0, INT64_MAX);
    if (!v.ok()) return Fail(v.status());
    p.set_target_max_bytes(static_cast<uint64_t>(*v));
  } else {
    return Fail(Invalid("unrecognized variable '" + *key + "'"));
  }
  CommandOutcome o;
  o.text = "set pool " + std::to_string(p.id()) + " " + *key + " to " + *val;
  o.json = PoolJson(p);
  if (p.SerializeAsString() == cur->SerializeAsString()) return o;  // nothing changes
  auto* inc = o.update.mutable_osdmap();
  inc->set_epoch(c.maps.osdmap().epoch() + 1);
  *inc->add_ops()->mutable_pool_upsert() = p;
  return o;
}

CommandOutcome PoolRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "pool");
  if (!name.ok()) return Fail(name.status());
  const proto::PoolInfo* p = c.maps.PoolByName(*name);
  CommandOutcome o;
  if (!p) {
    // Ceph: removing a missing pool succeeds, saying so.
    o.text = "pool '" + *name + "' does not exist";
    return o;
  }
  if (ArgOr(r, "pool2", "") != *name || !ArgFlag(r, "yes_i_really_really_mean_it"))
    return Fail(PermissionDenied("WARNING: this will *PERMANENTLY DESTROY* all data stored in pool " + *name +
                                 ".  If you are *ABSOLUTELY CERTAIN* that is what you want, pass the pool name "
                                 "*twice*, followed by --yes-i-really-really-mean-it."));
  auto* inc = o.update.mutable_osdmap();
  inc->set_epoch(c.maps.osdmap().epoch() + 1);
  inc->add_ops()->set_pool_remove(p->id());
  o.text = "pool '" + *name + "' removed";
  return o;
}

CommandOutcome EcProfileSet(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "name");
  if (!name.ok()) return Fail(name.status());
  proto::EcProfile prof;
  prof.set_name(*name);
  (*prof.mutable_kv())["plugin"] = "isa";
  (*prof.mutable_kv())["crush-failure-domain"] = "host";
  for (const std::string& kv : ArgList(r, "profile")) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Fail(Invalid("profile entries are key=value, got '" + kv + "'"));
    (*prof.mutable_kv())[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const char* key : {"k", "m"}) {
    auto it = prof.kv().find(key);
    if (it == prof.kv().end()) return Fail(Invalid(std::string("profile needs ") + key + "=N"));
    int v = std::atoi(it->second.c_str());
    if (v < 1 || v > 32 || std::to_string(v) != it->second)
      return Fail(Invalid(std::string(key) + " must be an integer 1..32, got '" + it->second + "'"));
  }
  if (prof.kv().at("plugin") != "isa") return Fail(Invalid("only plugin=isa is supported"));
  CommandOutcome o;
  auto it = c.maps.osdmap().ec_profiles().find(*name);
  if (it != c.maps.osdmap().ec_profiles().end()) {
    if (it->second.SerializeAsString() == prof.SerializeAsString()) return o;
    if (!ArgFlag(r, "force")) return Fail(PermissionDenied("will not override erasure code profile " + *name + " because the existing profile differs; use --force"));
  }
  auto* inc = o.update.mutable_osdmap();
  inc->set_epoch(c.maps.osdmap().epoch() + 1);
  *inc->add_ops()->mutable_ec_profile_set() = prof;
  return o;
}

CommandOutcome EcProfileLs(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  o.json = nlohmann::json::array();
  for (const auto& [n, p] : c.maps.osdmap().ec_profiles()) {
    o.json.push_back(n);
    o.text += n + "\n";
  }
  return o;
}

CommandOutcome EcProfileGet(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "name");
  if (!name.ok()) return Fail(name.status());
  auto it = c.maps.osdmap().ec_profiles().find(*name);
  if (it == c.maps.osdmap().ec_profiles().end()) return Fail(NotFound("unknown erasure code profile '" + *name + "'"));
  CommandOutcome o;
  o.json = nlohmann::json::object();
  for (const auto& [k, v] : it->second.kv()) {
    o.json[k] = v;
    o.text += k + "=" + v + "\n";
  }
  return o;
}

CommandOutcome EcProfileRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto name = ArgString(r, "name");
  if (!name.ok()) return Fail(name.status());
  CommandOutcome o;
  if (!c.maps.osdmap().ec_profiles().count(*name)) return o;
  for (const auto& [id, p] : c.maps.osdmap().pools())
    if (p.ec_profile() == *name) return Fail(Status(Code::kAgain, "erasure code profile " + *name + " is in use by pool " + p.name()));
  auto* inc = o.update.mutable_osdmap();
  inc->set_epoch(c.maps.osdmap().epoch() + 1);
  inc->add_ops()->set_ec_profile_remove(*name);
  return o;
}

}  // namespace

void AddPoolCommands(CommandTable* t) {
  (*t)["osd pool create"] = {true, PoolCreate};
  (*t)["osd pool ls"] = {false, PoolLs};
  (*t)["osd pool get"] = {false, PoolGet};
  (*t)["osd pool set"] = {true, PoolSet};
  (*t)["osd pool rm"] = {true, PoolRm};
  (*t)["osd erasure-code-profile set"] = {true, EcProfileSet};
  (*t)["osd erasure-code-profile ls"] = {false, EcProfileLs};
  (*t)["osd erasure-code-profile get"] = {false, EcProfileGet};
  (*t)["osd erasure-code-profile rm"] = {true, EcProfileRm};
}

}  // namespace nacre::mon
