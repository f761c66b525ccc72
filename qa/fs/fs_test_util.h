// FsTestEnv: a whole cluster with a filesystem, mounted through nacre-fuse,
// for the filesystem suites (qa/fs, qa/posix).
//
// Start() brings up 3 monitors and 3 OSDs (qa/cluster TestCluster), runs
// `fs volume create`, starts an MDS and waits for the volume's PGs; Mount()
// runs nacre-fuse in the foreground as a child process on a fresh temporary
// directory and waits until the kernel shows the mount. The destructor
// always lazily unmounts every mount, kills every nacre-fuse it started (by
// PID) and removes the mount points; the TestCluster member then kills the
// daemons, so a failing test leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "qa/cluster/test_cluster.h"

namespace nacre::qa {

class FsTestEnv {
 public:
  FsTestEnv();
  ~FsTestEnv();
  FsTestEnv(const FsTestEnv&) = delete;
  FsTestEnv& operator=(const FsTestEnv&) = delete;

  Status Start(const std::string& extra_conf = "");
  // Mounts the filesystem on a new directory; returns the mount point.
  Result<std::string> Mount(const std::vector<std::string>& extra_args = {});
  // fusermount3 -u, then waits for that nacre-fuse to exit.
  Status Unmount(const std::string& mountpoint);

  TestCluster& cluster() { return *cluster_; }
  const std::string& fs_name() const { return fs_name_; }

 private:
  struct MountProc {
    std::string dir;
    pid_t pid = -1;
    std::string log;
  };
  std::unique_ptr<TestCluster> cluster_;
  std::string fs_name_ = "nacrefs";
  std::vector<MountProc> mounts_;
};

// True if `dir` is a FUSE mount now (per /proc/self/mountinfo).
bool IsFuseMount(const std::string& dir);

// Runs fn in a child process with the given credentials (uid, gid, no
// supplementary groups); returns fn's result (an errno, 0 for success) or
// -1 if the child died abnormally.
int RunAs(uid_t uid, gid_t gid, const std::function<int()>& fn);

// A file's whole contents ("" if unreadable).
std::string ReadFile(const std::string& path);

}  // namespace nacre::qa
