// `auth get-or-create|get|ls|rm` and `config set|get|rm|dump` commands.
#include <sstream>

#include "common/config.h"
#include "common/keyring.h"
#include "daemons/mon/commands.h"

namespace nacre::mon {

namespace {

const std::set<std::string> kCapServices = {"mon", "osd", "mds", "mgr"};

Status ValidEntity(const std::string& e) {
  size_t dot = e.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == e.size() || e.size() > 256)
    return Invalid("entity must be TYPE.ID (e.g. client.foo), got '" + e + "'");
  std::string type = e.substr(0, dot);
  if (type != "client" && type != "osd" && type != "mon" && type != "mds" && type != "mgr")
    return Invalid("unknown entity type '" + type + "'");
  return Status::OK();
}

// caps arrive as a JSON array: ["mon", "allow r", "osd", "allow rw pool=data"].
Result<std::map<std::string, std::string>> ParseCaps(const proto::CommandRequest& r) {
  std::map<std::string, std::string> caps;
  std::string raw = ArgOr(r, "caps", "[]");
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Invalid("caps must be pairs: SERVICE 'CAP' ...");
  if (j.size() % 2) return Invalid("caps must come in pairs: SERVICE 'CAP'");
  for (size_t i = 0; i < j.size(); i += 2) {
    if (!j[i].is_string() || !j[i + 1].is_string()) return Invalid("caps must be strings");
    std::string svc = j[i], cap = j[i + 1];
    if (!kCapServices.count(svc)) return Invalid("unknown cap service '" + svc + "'");
    if (cap.rfind("allow", 0) != 0 && cap.rfind("profile ", 0) != 0)
      return Invalid("cap '" + cap + "' must start with 'allow' or 'profile'");
    caps[svc] = cap;
  }
  return caps;
}

std::string KeyringText(const proto::AuthEntity& e) {
  std::string s = "[" + e.entity() + "]\n\tkey = " + e.key() + "\n";
  for (const auto& [svc, cap] : e.caps()) s += "\tcaps " + svc + " = \"" + cap + "\"\n";
  return s;
}

nlohmann::json EntityJson(const proto::AuthEntity& e) {
  nlohmann::json caps = nlohmann::json::object();
  for (const auto& [svc, cap] : e.caps()) caps[svc] = cap;
  return {{"entity", e.entity()}, {"key", e.key()}, {"caps", caps}};
}

CommandOutcome AuthGetOrCreate(const proto::CommandRequest& r, const CommandContext& c) {
  auto ent = ArgString(r, "entity");
  if (!ent.ok()) return Fail(ent.status());
  if (Status s = ValidEntity(*ent); !s.ok()) return Fail(s);
  auto caps = ParseCaps(r);
  if (!caps.ok()) return Fail(caps.status());
  CommandOutcome o;
  auto it = c.maps.auth().entities().find(*ent);
  if (it != c.maps.auth().entities().end()) {
    // Ceph: an existing entity is returned only if the caps asked for match.
    for (const auto& [svc, cap] : *caps) {
      auto have = it->second.caps().find(svc);
      if (have == it->second.caps().end() || have->second != cap)
        return Fail(Invalid("key for " + *ent + " exists but cap " + svc + " does not match"));
    }
    o.json = nlohmann::json::array({EntityJson(it->second)});
    o.text = KeyringText(it->second);
    return o;
  }
  proto::AuthEntity e;
  e.set_entity(*ent);
  e.set_key(GenerateKey());
  for (const auto& [svc, cap] : *caps) (*e.mutable_caps())[svc] = cap;
  *o.update.add_auth()->mutable_upsert() = e;
  o.json = nlohmann::json::array({EntityJson(e)});
  o.text = KeyringText(e);
  return o;
}

CommandOutcome AuthGet(const proto::CommandRequest& r, const CommandContext& c) {
  auto ent = ArgString(r, "entity");
  if (!ent.ok()) return Fail(ent.status());
  auto it = c.maps.auth().entities().find(*ent);
  if (it == c.maps.auth().entities().end()) return Fail(NotFound("failed to find " + *ent + " in keyring"));
  CommandOutcome o;
  o.json = nlohmann::json::array({EntityJson(it->second)});
  o.text = KeyringText(it->second);
  return o;
}

CommandOutcome AuthLs(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [name, e] : c.maps.auth().entities()) {
    arr.push_back(EntityJson(e));
    o.text += name + "\n\tkey: " + e.key() + "\n";
    for (const auto& [svc, cap] : e.caps()) o.text += "\tcaps: [" + svc + "] " + cap + "\n";
  }
  o.json = {{"auth_dump", arr}};
  return o;
}

CommandOutcome AuthRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto ent = ArgString(r, "entity");
  if (!ent.ok()) return Fail(ent.status());
  CommandOutcome o;
  if (!c.maps.auth().entities().count(*ent)) return o;  // Ceph: idempotent
  if (*ent == "client.admin") return Fail(PermissionDenied("refusing to remove client.admin"));
  o.update.add_auth()->set_remove(*ent);
  o.text = "updated";
  return o;
}

// WHO is "global", a type ("osd"), or an entity ("osd.3").
Status ValidWho(const std::string& who) {
  if (who == "global" || who == "mon" || who == "osd" || who == "mds" || who == "client") return Status::OK();
  return ValidEntity(who);
}

CommandOutcome ConfigSet(const proto::CommandRequest& r, const CommandContext& c) {
  auto who = ArgString(r, "who");
  auto name = ArgString(r, "name");
  auto value = ArgString(r, "value");
  for (const auto* s : {&who.status(), &name.status(), &value.status()})
    if (!s->ok()) return Fail(*s);
  if (Status s = ValidWho(*who); !s.ok()) return Fail(s);
  const OptionDef* def = FindOption(*name);
  if (!def) return Fail(NotFound("unrecognized config option '" + *name + "'"));
  auto v = ValidateOptionValue(def->type, *value);
  if (!v.ok()) return Fail(v.status().Annotate(def->name));
  CommandOutcome o;
  auto cur = c.maps.config().values().find(*who + "/" + def->name);
  if (cur != c.maps.config().values().end() && cur->second == *v) return o;
  auto* op = o.update.add_config();
  op->set_section(*who);
  op->set_name(def->name);
  op->set_value(*v);
  return o;
}

CommandOutcome ConfigRm(const proto::CommandRequest& r, const CommandContext& c) {
  auto who = ArgString(r, "who");
  auto name = ArgString(r, "name");
  if (!who.ok()) return Fail(who.status());
  if (!name.ok()) return Fail(name.status());
  std::string norm = NormalizeOptionName(*name);
  CommandOutcome o;
  if (!c.maps.config().values().count(*who + "/" + norm)) return o;
  auto* op = o.update.add_config();
  op->set_section(*who);
  op->set_name(norm);
  op->set_remove(true);
  return o;
}

CommandOutcome ConfigGet(const proto::CommandRequest& r, const CommandContext& c) {
  auto who = ArgString(r, "who");
  if (!who.ok()) return Fail(who.status());
  if (Status s = ValidWho(*who); !s.ok()) return Fail(s);
  // The value an entity sees: entity section over type section over global.
  std::string type = who->substr(0, who->find('.'));
  std::map<std::string, std::string> eff;
  for (const std::string& sec : {std::string("global"), type, *who})
    for (const auto& [k, v] : c.maps.config().values())
      if (k.compare(0, sec.size() + 1, sec + "/") == 0) eff[k.substr(sec.size() + 1)] = v;
  CommandOutcome o;
  std::string name = ArgOr(r, "name", "");
  if (!name.empty()) {
    const OptionDef* def = FindOption(name);
    if (!def) return Fail(NotFound("unrecognized config option '" + name + "'"));
    auto it = eff.find(def->name);
    std::string v = it != eff.end() ? it->second : def->default_value;
    o.json = v;
    o.text = v + "\n";
    return o;
  }
  o.json = eff;
  for (const auto& [k, v] : eff) o.text += k + " = " + v + "\n";
  return o;
}

CommandOutcome ConfigDump(const proto::CommandRequest&, const CommandContext& c) {
  CommandOutcome o;
  o.json = nlohmann::json::array();
  std::ostringstream os;
  os << "WHO     OPTION                          VALUE\n";
  for (const auto& [k, v] : c.maps.config().values()) {
    size_t slash = k.find('/');
    std::string who = k.substr(0, slash), name = k.substr(slash + 1);
    o.json.push_back({{"section", who}, {"name", name}, {"value", v}});
    os << who << std::string(who.size() < 8 ? 8 - who.size() : 1, ' ') << name
       << std::string(name.size() < 32 ? 32 - name.size() : 1, ' ') << v << "\n";
  }
  o.text = os.str();
  return o;
}

}  // namespace

void AddAuthConfigCommands(CommandTable* t) {
  (*t)["auth get-or-create"] = {true, AuthGetOrCreate};
  (*t)["auth get"] = {false, AuthGet};
  (*t)["auth ls"] = {false, AuthLs};
  (*t)["auth rm"] = {true, AuthRm};
  (*t)["config set"] = {true, ConfigSet};
  (*t)["config rm"] = {true, ConfigRm};
  (*t)["config get"] = {false, ConfigGet};
  (*t)["config dump"] = {false, ConfigDump};
}

}  // namespace nacre::mon
