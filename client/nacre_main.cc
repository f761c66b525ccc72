// nacre: the admin CLI. main() only parses the global flags into a Context
// and lets each command family register its subcommands; the families do the
// work and report failures through ctx.Fail, which sets the exit code.
#include <iostream>
#include <string>

#include "admin.pb.h"
#include "client/cli.h"
#include "client/rados_cli.h"

int main(int argc, char** argv) {
  nacre::cli::Context ctx;
  CLI::App app{"nacre: administer a Nacre cluster", "nacre"};
  // Global flags may also follow the subcommand (`nacre crush tree m --format json`), as with Ceph.
  app.fallthrough();
  app.require_subcommand(0, 1);
  app.add_option("-f,--format", ctx.format, "output format")
      ->check(CLI::IsMember({"plain", "json", "json-pretty"}));
  app.add_option("-c,--conf", ctx.conf, "configuration file");
  app.add_option("-n,--name", ctx.name, "entity name (default client.admin)");
  app.add_option("-m,--mon-host", ctx.mon_host, "monitor addresses, comma separated");
  app.add_option("-k,--keyring", ctx.keyring, "keyring file");
  app.add_option("--connect-timeout", ctx.timeout_secs, "seconds to wait for a monitor quorum");

  bool status_flag = false;
  app.add_flag("-s", status_flag, "show cluster status (same as `nacre status`)");
  nacre::cli::RegisterCrushCommands(app, ctx);
  nacre::cli::RegisterMonCommands(app, ctx);
  nacre::cli::RegisterRadosCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    std::cerr << "Error EINVAL: " << msg << "\n";
    return EINVAL;
  }
  if (app.get_subcommands().empty()) {
    if (!status_flag) {
      std::cerr << "Error EINVAL: a command is required (see --help)\n";
      return EINVAL;
    }
    nacre::proto::CommandRequest req;
    req.set_prefix("status");
    nacre::cli::RunMonCommand(ctx, req);
  }
  return ctx.exit_code;
}
