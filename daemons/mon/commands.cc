#include "daemons/mon/commands.h"

#include <charconv>
#include <sstream>

namespace nacre::mon {

namespace {

const CommandTable& Table() {
  static const CommandTable t = [] {
    CommandTable t;
    AddOsdCommands(&t);
    AddPoolCommands(&t);
    AddClusterCommands(&t);
    AddAuthConfigCommands(&t);
    AddFsCommands(&t);
    AddPgCommands(&t);
    return t;
  }();
  return t;
}

}  // namespace

bool IsWriteCommand(const std::string& prefix) {
  auto it = Table().find(prefix);
  return it != Table().end() && it->second.write;
}

bool IsKnownCommand(const std::string& prefix) { return Table().count(prefix) != 0; }

CommandOutcome HandleCommand(const proto::CommandRequest& req, const CommandContext& ctx) {
  auto it = Table().find(req.prefix());
  if (it == Table().end()) return Fail(Invalid("unrecognized command '" + req.prefix() + "'"));
  CommandOutcome o = it->second.fn(req, ctx);
  if (o.status.ok() && o.json.is_null()) o.json = nlohmann::json::object();
  return o;
}

Result<std::string> ArgString(const proto::CommandRequest& r, const std::string& name) {
  auto it = r.args().find(name);
  if (it == r.args().end() || it->second.empty()) return Invalid("missing required argument '" + name + "'");
  return it->second;
}

std::string ArgOr(const proto::CommandRequest& r, const std::string& name, const std::string& def) {
  auto it = r.args().find(name);
  return it == r.args().end() || it->second.empty() ? def : it->second;
}

Result<int64_t> ArgInt(const proto::CommandRequest& r, const std::string& name, int64_t lo, int64_t hi) {
  NACRE_ASSIGN_OR_RETURN(std::string s, ArgString(r, name));
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return Invalid(name + " must be an integer, got '" + s + "'");
  if (v < lo || v > hi)
    return OutOfRange(name + " " + s + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

bool ArgFlag(const proto::CommandRequest& r, const std::string& name) {
  auto it = r.args().find(name);
  return it != r.args().end() && (it->second == "true" || it->second == "1" || it->second.empty());
}

std::vector<std::string> ArgList(const proto::CommandRequest& r, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream is(ArgOr(r, name, ""));
  std::string w;
  while (is >> w) out.push_back(w);
  return out;
}

}  // namespace nacre::mon
