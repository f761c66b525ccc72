// nacre-mon: a monitor.
//   nacre-mon --id a -c nacre.conf --mkfs   create the store from the initial maps
//   nacre-mon --id a -c nacre.conf          run
#include <iostream>
#include <memory>

#include "common/daemon.h"
#include "daemons/mon/monitor.h"

int main(int argc, char** argv) {
  using namespace nacre;
  return RunDaemon(argc, argv, "mon", "nacre-mon --id NAME [-c nacre.conf] [--mkfs]", [](DaemonEnv& env) -> Status {
    if (env.mkfs) {
      Status s = mon::Monitor::Mkfs(env.config);
      if (s.ok()) {
        std::cout << "created monitor store for mon." << env.config.entity_id() << " in "
                  << env.config.GetString("mon_data") << "\n";
        env.loop.Stop();  // nothing to run
      }
      return s;
    }
    auto mon = std::make_shared<mon::Monitor>(env.config, env.loop);
    NACRE_RETURN_IF_ERROR(mon->Start());
    env.on_stop = [mon] { mon->Stop(); };
    env.keep_alive.push_back(mon);
    return Status::OK();
  });
}
