// The monitor commands of `nacre`, in Ceph's grammar. Each row maps a
// command's words and positional arguments onto a CommandRequest; the
// monitor validates everything, so the CLI only shapes the request.
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "client/cli.h"
#include "cluster/mon_client.h"
#include "common/config.h"
#include "common/keyring.h"

namespace nacre::cli {

namespace {

enum class ArgKind {
  kRequired,  // NAME
  kOptional,  // [NAME]
  kLiteral,   // [detail]: present means "true"
  kList,      // NAME...  (joined with spaces)
  kJsonList,  // CAPS...  (sent as a JSON array; values may hold spaces)
};

struct ArgDef {
  const char* name;
  ArgKind kind;
};

struct CommandDef {
  const char* prefix;
  std::vector<ArgDef> args;
  std::vector<const char*> flags;  // --flag, sent as name (dashes -> underscores) = "true"
  const char* help;
};

const std::vector<CommandDef>& Commands() {
  using K = ArgKind;
  static const std::vector<CommandDef> defs = {
      {"status", {}, {}, "show cluster status"},
      {"health", {{"detail", K::kLiteral}}, {}, "show cluster health"},
      {"mon stat", {}, {}, "summarize monitor status"},
      {"quorum_status", {}, {}, "report status of monitor quorum"},
      {"osd tree", {}, {}, "print OSD tree"},
      {"osd df", {}, {}, "show OSD utilization"},
      {"pg stat", {}, {}, "show placement group status"},
      {"pg dump", {}, {}, "show placement group statistics"},
      {"pg ls", {{"states", K::kList}}, {}, "list PGs [POOL_ID] [STATE...]"},
      {"osd ls", {}, {}, "show all OSD ids"},
      {"osd dump", {}, {}, "print summary of the OSD map"},
      {"osd out", {{"ids", K::kList}}, {}, "set OSD(s) out"},
      {"osd in", {{"ids", K::kList}}, {}, "set OSD(s) in"},
      {"osd down", {{"ids", K::kList}}, {}, "set OSD(s) down"},
      {"osd pool create",
       {{"pool", K::kRequired}, {"pg_num", K::kOptional}, {"pool_type", K::kOptional}, {"erasure_code_profile", K::kOptional}},
       {},
       "create a pool"},
      {"osd pool ls", {{"detail", K::kLiteral}}, {}, "list pools"},
      {"osd pool get", {{"pool", K::kRequired}, {"var", K::kRequired}}, {}, "get a pool parameter (or all)"},
      {"osd pool set", {{"pool", K::kRequired}, {"var", K::kRequired}, {"val", K::kRequired}}, {}, "set a pool parameter"},
      {"osd pool rm", {{"pool", K::kRequired}, {"pool2", K::kOptional}}, {"yes-i-really-really-mean-it"}, "remove a pool"},
      {"osd erasure-code-profile set", {{"name", K::kRequired}, {"profile", K::kList}}, {"force"}, "create an erasure code profile"},
      {"osd erasure-code-profile ls", {}, {}, "list erasure code profiles"},
      {"osd erasure-code-profile get", {{"name", K::kRequired}}, {}, "show an erasure code profile"},
      {"osd erasure-code-profile rm", {{"name", K::kRequired}}, {}, "remove an erasure code profile"},
      {"auth get-or-create", {{"entity", K::kRequired}, {"caps", K::kJsonList}}, {}, "get or create a key with caps"},
      {"auth get", {{"entity", K::kRequired}}, {}, "show an entity's key and caps"},
      {"auth ls", {}, {}, "list entities"},
      {"auth rm", {{"entity", K::kRequired}}, {}, "remove an entity"},
      {"config set", {{"who", K::kRequired}, {"name", K::kRequired}, {"value", K::kRequired}}, {}, "set a central option"},
      {"config get", {{"who", K::kRequired}, {"name", K::kOptional}}, {}, "show central options of an entity"},
      {"config rm", {{"who", K::kRequired}, {"name", K::kRequired}}, {}, "remove a central option"},
      {"config dump", {}, {}, "show all central options"},
      {"fs new", {{"fs_name", K::kRequired}, {"metadata", K::kRequired}, {"data", K::kRequired}}, {"force"}, "make a filesystem from two pools"},
      {"fs ls", {}, {}, "list filesystems"},
      {"fs dump", {}, {}, "show the FSMap"},
      {"fs status", {{"fs_name", K::kOptional}}, {}, "show filesystems, their MDS ranks, activity and pools"},
      {"fs fail", {{"fs_name", K::kRequired}}, {}, "make a filesystem not joinable and fail all its ranks"},
      {"fs set", {{"fs_name", K::kRequired}, {"var", K::kRequired}, {"val", K::kRequired}}, {},
       "set max_mds, standby_count_wanted or joinable of a filesystem"},
      {"fs volume create", {{"name", K::kRequired}}, {}, "create a volume: a filesystem with its own two pools"},
      {"fs volume ls", {}, {}, "list volumes"},
      {"fs volume rm", {{"name", K::kRequired}}, {"yes-i-really-mean-it"}, "remove a volume and its pools"},
      {"mds stat", {}, {}, "summarize MDS ranks and standbys"},
      {"fs rm", {{"fs_name", K::kRequired}}, {"yes-i-really-mean-it"}, "remove a filesystem (its MDS ranks must be inactive)"},
  };
  return defs;
}

std::string Underscored(std::string s) {
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

// Resolves conf, mon_host and keyring the way every Nacre client does.
Result<monc::MonClient> MakeMonClient(const Context& ctx) {
  Config cfg(ctx.name);
  std::string conf = ctx.conf;
  if (conf.empty()) {
    const char* env = getenv("NACRE_CONF");
    conf = env ? env : "/etc/nacre/nacre.conf";
    if (!std::ifstream(conf) && ctx.conf.empty() && !ctx.mon_host.empty()) conf.clear();
  }
  if (!conf.empty()) NACRE_RETURN_IF_ERROR(cfg.ApplyFile(conf));
  std::string mon_host = ctx.mon_host.empty() ? cfg.GetString("mon_host") : ctx.mon_host;
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(mon_host));
  std::string keyring_path = ctx.keyring.empty() ? cfg.GetString("keyring") : ctx.keyring;
  if (keyring_path.empty()) return Invalid("no keyring: set keyring in the config or pass --keyring");
  NACRE_ASSIGN_OR_RETURN(Keyring kr, Keyring::Load(keyring_path));
  const KeyEntry* e = kr.Get(ctx.name);
  if (!e) return NotFound("no key for " + ctx.name + " in " + keyring_path);
  return monc::MonClient(std::move(mons), ctx.name, e->secret);
}

}  // namespace

void RunMonCommand(Context& ctx, const proto::CommandRequest& req) {
  auto client = MakeMonClient(ctx);
  if (!client.ok()) return ctx.Fail(client.status());
  auto reply = client->Command(req, ctx.timeout_secs);
  if (!reply.ok()) return ctx.Fail(reply.status());
  if (reply->status().code() != 0)
    return ctx.Fail(Status(static_cast<Code>(reply->status().code()), reply->status().message()));
  if (ctx.json()) {
    auto j = nlohmann::json::parse(reply->json(), nullptr, false);
    if (j.is_discarded()) return ctx.Fail(Corruption("monitor sent malformed JSON"));
    ctx.PrintJson(j);
  } else {
    std::cout << reply->text();
    if (!reply->text().empty() && reply->text().back() != '\n') std::cout << "\n";
  }
}

void RegisterMonCommands(CLI::App& app, Context& ctx) {
  std::map<std::string, CLI::App*> groups;  // "osd pool" -> its App
  for (const CommandDef& def : Commands()) {
    // Walk/create the subcommand path for every word of the prefix.
    std::string prefix = def.prefix, path;
    CLI::App* parent = &app;
    size_t pos = 0;
    while (pos <= prefix.size()) {
      size_t sp = prefix.find(' ', pos);
      std::string word = prefix.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      path += (path.empty() ? "" : " ") + word;
      bool last = sp == std::string::npos;
      auto it = groups.find(path);
      if (it == groups.end()) {
        static const std::map<std::string, std::string> kGroupHelp = {
            {"mon", "monitor status"},
            {"pg", "placement groups"},
            {"osd", "OSDs, pools and erasure-code profiles"},
            {"osd pool", "create, list, inspect, change and remove pools"},
            {"osd erasure-code-profile", "erasure-code profiles"},
            {"auth", "entities, their keys and caps"},
            {"config", "central configuration"},
            {"fs", "filesystems"},
            {"fs volume", "volumes: filesystems with their own pools"},
            {"mds", "metadata servers"}};
        auto gh = kGroupHelp.find(path);
        CLI::App* sub = parent->add_subcommand(word, last ? def.help : gh != kGroupHelp.end() ? gh->second : "");
        if (!last) sub->require_subcommand(1);
        it = groups.emplace(path, sub).first;
      }
      parent = it->second;
      if (last) break;
      pos = sp + 1;
    }
    // Single values and lists need different CLI11 storage: a vector makes
    // a positional greedy.
    auto singles = std::make_shared<std::map<std::string, std::string>>();
    auto lists = std::make_shared<std::map<std::string, std::vector<std::string>>>();
    auto flags = std::make_shared<std::map<std::string, bool>>();
    for (const ArgDef& a : def.args) {
      if (a.kind == ArgKind::kList || a.kind == ArgKind::kJsonList) {
        parent->add_option(a.name, (*lists)[a.name])->expected(0, 64);
      } else {
        auto* opt = parent->add_option(a.name, (*singles)[a.name]);
        if (a.kind == ArgKind::kRequired) opt->required();
      }
    }
    for (const char* f : def.flags) parent->add_flag(std::string("--") + f, (*flags)[f]);
    parent->callback([&ctx, &def, singles, lists, flags] {
      proto::CommandRequest req;
      req.set_prefix(def.prefix);
      for (const ArgDef& a : def.args) {
        if (a.kind == ArgKind::kList || a.kind == ArgKind::kJsonList) {
          const auto& v = (*lists)[a.name];
          if (v.empty()) continue;
          auto& out = (*req.mutable_args())[a.name];
          if (a.kind == ArgKind::kJsonList) out = nlohmann::json(v).dump();
          else
            for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
          continue;
        }
        const std::string& v = (*singles)[a.name];
        if (v.empty()) continue;
        if (a.kind == ArgKind::kLiteral && v != a.name)
          return ctx.Fail(Invalid(std::string("expected '") + a.name + "', got '" + v + "'"));
        (*req.mutable_args())[a.name] = a.kind == ArgKind::kLiteral ? "true" : v;
      }
      for (const auto& [f, on] : *flags)
        if (on) (*req.mutable_args())[Underscored(f)] = "true";
      RunMonCommand(ctx, req);
    });
  }
}

}  // namespace nacre::cli
