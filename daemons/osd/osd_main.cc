// nacre-osd: an OSD.
//   nacre-osd -c nacre.conf --osd_data DIR --mkfs   create the data directory
//   nacre-osd -c nacre.conf --osd_data DIR          run
#include <iostream>
#include <memory>

#include "common/daemon.h"
#include "daemons/osd/osd_daemon.h"

int main(int argc, char** argv) {
  using namespace nacre;
  return RunDaemon(argc, argv, "osd", "nacre-osd [-c nacre.conf] --osd_data DIR [--mkfs]", [](DaemonEnv& env) -> Status {
    if (env.mkfs) {
      NACRE_RETURN_IF_ERROR(osd::OsdDaemon::Mkfs(env.config));
      std::cout << "created OSD data directory " << env.config.GetString("osd_data") << "\n";
      env.loop.Stop();
      return Status::OK();
    }
    auto daemon = std::make_shared<osd::OsdDaemon>(env.config, env.loop);
    NACRE_RETURN_IF_ERROR(daemon->Start());
    env.on_stop = [daemon] { daemon->Stop(); };
    env.keep_alive.push_back(daemon);
    return Status::OK();
  });
}
