// Crash safety: a writer process is SIGKILLed at random points; everything it
// was told is durable must read back exactly afterwards, nothing may be
// half-applied, and an acknowledged removal stays removed. The writer also
// rewrites and removes older objects and runs reclaim rounds back to back,
// so kills land inside data-file deletion and compaction as well.
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
using nacre::osd::store::testing::kCrashIdMask;
using nacre::osd::store::testing::kCrashReclaimed;
using nacre::osd::store::testing::kCrashRemoved;
using nacre::osd::store::testing::kCrashRemoving;

// Reads every object the model says must be there, and checks the removed
// ones are gone.
void CheckAcked(ObjectStore& s, const std::set<uint64_t>& acked, const std::set<uint64_t>& removing,
                const std::set<uint64_t>& removed) {
  for (uint64_t id : acked) {
    INFO("id " << id);
    if (removed.count(id)) {
      CHECK(s.Read(kColl, CrashOid(id), 0, 0).status().code() == Code::kNotFound);
      CHECK(s.CollGet(kColl, "log." + std::to_string(id)).status().code() == Code::kNotFound);
      continue;
    }
    if (removing.count(id)) continue;  // either way; whole if present (below)
    auto data = s.Read(kColl, CrashOid(id), 0, 0);
    INFO(data.status().ToString());
    REQUIRE(data.ok());
    REQUIRE(data->ToString() == Pattern(id, CrashSize(id)));
    REQUIRE(s.CollGet(kColl, "log." + std::to_string(id)).ok());
  }
}

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
  std::set<uint64_t> acked, removing, removed;
  uint64_t deletes = 0, compactions = 0;  // writer reclaim rounds that did either
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
      uint64_t msg;
      ssize_t n = ::read(fds[0], &msg, sizeof msg);
      if (n != sizeof msg) return false;
      uint64_t id = msg & kCrashIdMask;
      if (msg & kCrashReclaimed) {
        ++(id ? compactions : deletes);
      } else if (msg & kCrashRemoving) {
        removing.insert(id);
      } else if (msg & kCrashRemoved) {
        removed.insert(id);
      } else {
        acked.insert(id);
        next_id = std::max(next_id, id + 1);
      }
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
    INFO("round " << round << " collections: " << s.ListCollections().size() << " acked " << acked.size());
    // Every acknowledged object reads back exactly, with its omap and log
    // entry; every acknowledged removal stays removed.
    CheckAcked(s, acked, removing, removed);
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
    REQUIRE(listed + removing.size() >= acked.size());
    // Reclaim on the recovered store (whatever the kill left half done)
    // changes nothing a read returns.
    auto rr = s.Reclaim();
    INFO(rr.status().ToString());
    REQUIRE(rr.ok());
    CheckAcked(s, acked, removing, removed);
    WARN("round " << round << ": " << acked.size() << " acknowledged, " << removed.size() << " removed, " << listed
                  << " present; writer reclaim rounds so far: " << deletes << " deleting, " << compactions
                  << " compacting; recovery reclaim deleted "
                  << rr->files_deleted << " moved " << rr->blocks_moved << " blocks");
  }
  CHECK(acked.size() > 20);
  CHECK(compactions > 0);  // kills landed among compaction steps, not only deletions
}
