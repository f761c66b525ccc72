#include "common/daemon.h"

#include <boost/asio/signal_set.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/log.h"

namespace nacre {

int RunDaemon(int argc, char** argv, const std::string& type, const std::string& usage,
              const std::function<Status(DaemonEnv&)>& start) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Config config(type + ".0");
  bool help = false;
  Status s = config.ApplyArgs(&args, type, &help);
  if (help) {
    std::cout << Config::HelpText(usage);
    return 0;
  }
  if (s.ok()) s = config.ApplyLogging();
  if (!s.ok()) {
    std::cerr << argv[0] << ": " << s.ToString() << "\n";
    return 1;
  }
  bool mkfs = false;
  for (const auto& a : args) {
    if (a == "--mkfs") {
      mkfs = true;
      continue;
    }
    std::cerr << argv[0] << ": unknown argument '" << a << "' (see --help)\n";
    return 1;
  }
  AsioEventLoop loop;
  DaemonEnv env{config, loop, mkfs, {}, {}};
  MetricsServer metrics(loop.io());
  s = start(env);
  if (!s.ok()) {
    std::cerr << argv[0] << " " << config.entity() << ": " << s.ToString() << "\n";
    NLOG(general, kError) << "start failed: " << s.ToString();
    return 1;
  }
  // A one-shot job (--mkfs) stops the loop in start(): nothing to serve.
  if (loop.io().stopped()) return 0;
  int64_t mport = config.GetInt("metrics_port");
  if (mport >= 0) {
    s = metrics.Start(config.GetString("public_addr"), static_cast<uint16_t>(mport));
    if (!s.ok()) {
      std::cerr << argv[0] << ": " << s.ToString() << "\n";
      return 1;
    }
  }
  std::string pid_path;
  if (!config.GetString("run_dir").empty()) {
    pid_path = config.GetString("run_dir") + "/" + config.entity() + ".pid";
    std::ofstream(pid_path) << getpid() << "\n";
  }
  boost::asio::signal_set signals(loop.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    NLOG(general, kInfo) << "signal " << sig << ": stopping";
    if (env.on_stop) env.on_stop();
    metrics.Stop();
    loop.Stop();
  });
  NLOG(general, kInfo) << config.entity() << " running";
  loop.Run();
  if (!pid_path.empty()) unlink(pid_path.c_str());
  // keep_alive objects are destroyed here, after the loop stopped, in
  // reverse order of creation.
  while (!env.keep_alive.empty()) env.keep_alive.pop_back();
  return 0;
}

}  // namespace nacre
