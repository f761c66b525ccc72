// nacre-mds: a metadata server.
//   nacre-mds --id a -c nacre.conf
// Starts as a standby; the monitors give it a rank (doc/filesystem.md).
#include <memory>

#include "common/daemon.h"
#include "daemons/mds/mds_daemon.h"

int main(int argc, char** argv) {
  using namespace nacre;
  return RunDaemon(argc, argv, "mds", "nacre-mds --id ID [-c nacre.conf]", [](DaemonEnv& env) -> Status {
    if (env.mkfs) return Invalid("nacre-mds keeps no local state: there is nothing to --mkfs");
    auto daemon = std::make_shared<mds::MdsDaemon>(env.config, env.loop);
    NACRE_RETURN_IF_ERROR(daemon->Start());
    env.on_stop = [daemon] { daemon->Stop(); };
    env.keep_alive.push_back(daemon);
    return Status::OK();
  });
}
