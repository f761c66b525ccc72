// MDS failover under a mounted client: with a standby MDS, kill -9 the
// active one; the client's session is re-established with the new active
// (MDS_SESSION_RECONNECT, unanswered requests resent with the same tid) and
// the mount keeps working: files written before are there, new ones can be
// written, and an operation issued while no MDS is active completes once
// the standby takes over.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include <catch2/catch.hpp>

#include "common/wait_for.h"
#include "qa/fs/fs_test_util.h"

using namespace nacre::qa;

TEST_CASE("failover: the mount survives the active MDS being killed") {
  FsTestEnv env;
  nacre::Status s = env.Start();
  INFO(s.ToString());
  REQUIRE(s.ok());
  auto mnt = env.Mount();
  INFO(mnt.status().ToString());
  REQUIRE(mnt.ok());
  REQUIRE(env.cluster().StartMds(1).ok());  // the standby
  std::string before = *mnt + "/before";
  {
    int fd = open(before.c_str(), O_CREAT | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "kept", 4) == 4);
    REQUIRE(close(fd) == 0);
  }
  // Wait until the standby is registered, so the takeover can happen.
  REQUIRE(nacre::WaitFor(
      [&] {
        ProcResult r = env.cluster().Cli("fs status --format json");
        return r.exit_code == 0 && r.out.find("standby") != std::string::npos;
      },
      std::chrono::seconds(120)));
  env.cluster().KillMds(0);
  // Issued while rank 0 has no active MDS: it must complete after takeover.
  // On a detached thread: if it never returned, the test must still fail
  // and clean up rather than wait for it in a future's destructor.
  std::string during = *mnt + "/during";
  std::packaged_task<int()> task([during] { return mkdir(during.c_str(), 0755); });
  auto made = task.get_future();
  std::thread(std::move(task)).detach();
  REQUIRE(made.wait_for(std::chrono::seconds(180)) == std::future_status::ready);
  CHECK(made.get() == 0);
  struct stat st;
  CHECK(stat((*mnt + "/during").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(ReadFile(before) == "kept");
  int fd = open((*mnt + "/after").c_str(), O_CREAT | O_WRONLY, 0644);
  REQUIRE(fd >= 0);
  CHECK(write(fd, "new", 3) == 3);
  CHECK(close(fd) == 0);
  CHECK(ReadFile(*mnt + "/after") == "new");
}
