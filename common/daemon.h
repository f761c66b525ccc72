// What every Nacre daemon does the same way: read its config from flags and
// nacre.conf, set up logging, serve /metrics, write a pid file, and stop
// cleanly on SIGTERM/SIGINT.
//
//   int main(int argc, char** argv) {
//     return nacre::RunDaemon(argc, argv, "mon", "nacre-mon --id A [--mkfs]",
//                             [](nacre::DaemonEnv& env) { ... return Status; });
//   }
//
// Every daemon takes `--mkfs` (env.mkfs); any other argument that is not a
// config option is refused before `start` runs.
// `start` runs on the main thread before the loop; it may keep state in
// `env.keep_alive`. The loop runs until a signal, or until start's code
// calls env.loop.Stop(). A failed start prints one line and exits non-zero.
#pragma once

#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/metrics_server.h"
#include "common/status.h"

namespace nacre {

struct DaemonEnv {
  Config& config;
  AsioEventLoop& loop;
  bool mkfs = false;  // --mkfs: create the daemon's store, then exit
  std::vector<std::shared_ptr<void>> keep_alive;  // objects that must live as long as the loop
  std::function<void()> on_stop;     // runs on the loop when a signal arrives
};

int RunDaemon(int argc, char** argv, const std::string& type, const std::string& usage,
              const std::function<Status(DaemonEnv&)>& start);

}  // namespace nacre
