// Crash safety: a writer process is SIGKILLed at random points; everything it
// was told is durable must read back exactly afterwards, and nothing may be
// half-applied.
//
// The writer is store_crash_writer.cc, exec'ed after fork (a fresh process,
// so RocksDB's thread pools are not inherited half-alive across fork). It
// reports each acknowledged object id on a pipe.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "daemons/osd/store/object_store.h"
#include "daemons/osd/store/store_test_util.h"

using namespace nacre;
using namespace nacre::osd::store;
using nacre::osd::store::testing::Pattern;
using nacre::osd::store::testing::TempDir;

namespace {

const std::string kColl = nacre::osd::store::testing::kCrashColl;

using nacre::osd::store::testing::CrashOid;
using nacre::osd::store::testing::CrashOpts;
using nacre::osd::store::testing::CrashSize;

pid_t SpawnChild(const std::string& dir, uint64_t first, int wfd) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string first_s = std::to_string(first), fd_s = std::to_string(wfd);
    char* argv[] = {const_cast<char*>(NACRE_STORE_CRASH_WRITER), const_cast<char*>(dir.c_str()),
                    first_s.data(), fd_s.data(), nullptr};
    ::execv(NACRE_STORE_CRASH_WRITER, argv);
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("acknowledged writes survive SIGKILL at random points", "[store][crash]") {
  TempDir d;
  std::string dir = d.path() + "/store";
  std::mt19937_64 rng(std::random_device{}());
  std::set<uint64_t> acked;
  uint64_t next_id = 0;
  {
    // Created up front so that a child killed while still opening leaves a
    // collection to check.
    auto r = ObjectStore::Open(CrashOpts(dir));
    REQUIRE(r.ok());
    REQUIRE(r.value()->Apply(Transaction().CreateCollection(kColl)).ok());
  }
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    pid_t pid = SpawnChild(dir, next_id, fds[1]);
    REQUIRE(pid > 0);
    ::close(fds[1]);
    // Let it run a random while, then kill it mid-flight.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 600);
    auto consume = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      uint64_t id;
      ssize_t n = ::read(fds[0], &id, sizeof id);
      if (n != sizeof id) return false;
      acked.insert(id);
      next_id = std::max(next_id, id + 1);
      return true;
    };
    while (std::chrono::steady_clock::now() < deadline) consume(10);
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    REQUIRE(WIFSIGNALED(wstatus));  // it was still writing, not dead early
    while (consume(0)) {
    }
    ::close(fds[0]);
    next_id = (next_id + 4) / 4 * 4 + 4;  // ids of in-flight writes are skipped

    auto r = ObjectStore::Open(CrashOpts(dir));
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    auto& s = *r.value();
    INFO("collections: " << s.ListCollections().size() << " acked " << acked.size());
    // Every acknowledged object reads back exactly, with its omap and log entry.
    for (uint64_t id : acked) {
      INFO("round " << round << " id " << id);
      auto data = s.Read(kColl, CrashOid(id), 0, 0);
      REQUIRE(data.ok());
      REQUIRE(data->ToString() == Pattern(id, CrashSize(id)));
      REQUIRE(s.CollGet(kColl, "log." + std::to_string(id)).ok());
    }
    // Whatever exists (acknowledged or not) is whole: no half transaction.
    std::optional<ObjectId> cursor;
    size_t listed = 0;
    for (;;) {
      auto page = s.ListObjects(kColl, cursor, 500);
      INFO(page.status().ToString());
      REQUIRE(page.ok());
      for (const auto& oid : page->objects) {
        uint64_t id = std::stoull(oid.name.substr(4));
        auto data = s.Read(kColl, oid, 0, 0);
        REQUIRE(data.ok());
        REQUIRE(data->ToString() == Pattern(id, CrashSize(id)));
        auto omap = s.OmapGetAll(kColl, oid);
        REQUIRE(omap.ok());
        REQUIRE(omap->size() == 1);
        REQUIRE(s.CollGet(kColl, "log." + std::to_string(id)).ok());
      }
      listed += page->objects.size();
      if (!page->more) break;
      cursor = page->objects.back();
    }
    REQUIRE(listed >= acked.size());
    WARN("round " << round << ": " << acked.size() << " acknowledged, " << listed << " present");
  }
  CHECK(acked.size() > 20);
}
