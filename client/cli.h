// The `nacre` admin CLI: shared context and the registration hook each
// command family implements (crush_commands.cc, mon_commands.cc, ...).
//
// Grammar follows Ceph's (`nacre osd pool create NAME PG_NUM`), every command
// takes `--format plain|json|json-pretty`, and failures print one line
// "Error ENOENT: reason" to stderr and exit with the errno value.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>
#include <string>

#include "common/status.h"

namespace nacre::proto {
class CommandRequest;
}

namespace nacre::cli {

struct Context {
  std::string format = "plain";   // plain | json | json-pretty
  std::string conf;               // --conf
  std::string name = "client.admin";
  std::string mon_host;           // -m
  std::string keyring;
  double timeout_secs = 10;       // how long to look for a quorum
  int exit_code = 0;

  bool json() const { return format == "json" || format == "json-pretty"; }
  // Prints j as JSON (compact or pretty, per --format).
  void PrintJson(const nlohmann::json& j) const {
    std::cout << (format == "json-pretty" ? j.dump(4) : j.dump()) << "\n";
  }
  // Records a failure: one line on stderr, exit code = errno.
  void Fail(const Status& s) {
    std::cerr << "Error " << CodeName(s.code()) << ": " << s.message() << "\n";
    exit_code = s.err() ? s.err() : 1;
  }
};

// Sends one monitor command and prints its reply (used by `-s` too).
void RunMonCommand(Context& ctx, const proto::CommandRequest& req);

// Each command family adds its subcommands to `app`. Callbacks set
// ctx.exit_code (via Fail) rather than throwing.
void RegisterCrushCommands(CLI::App& app, Context& ctx);
// Monitor commands (status, health, osd, osd pool, auth, config, ...).
void RegisterMonCommands(CLI::App& app, Context& ctx);

}  // namespace nacre::cli
