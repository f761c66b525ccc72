// The writer half of the crash test (store_crash_test.cc): writes objects
// from 4 threads until killed, reporting each acknowledged (durable) id on a
// pipe. Each transaction writes the object, an omap key and a collection kv
// entry, so the checker can see any half-applied transaction. Older objects
// are rewritten with the same bytes or removed (store_test_util.h says
// which), so data-file extents die all the time, and a fifth thread runs
// reclaim rounds back to back: the kill lands in deletions and compactions
// too.
//   store_crash_writer DIR FIRST_ID FD
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "daemons/osd/store/object_store.h"
#include "daemons/osd/store/store_test_util.h"

using namespace nacre;
using namespace nacre::osd::store;
using namespace nacre::osd::store::testing;

namespace {

void Report(int fd, uint64_t msg) {
  // 8 bytes: atomic on a pipe, so threads' messages never interleave.
  if (::write(fd, &msg, sizeof msg) != sizeof msg) _exit(5);
}

Transaction WriteTxn(uint64_t id) {
  Transaction txn;
  txn.WriteFull(kCrashColl, CrashOid(id), Bytes(Pattern(id, CrashSize(id))));
  txn.OmapSet(kCrashColl, CrashOid(id), {{"id", std::to_string(id)}});
  txn.CollPut(kCrashColl, "log." + std::to_string(id), "x");
  return txn;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return 1;
  uint64_t first_id = std::strtoull(argv[2], nullptr, 10);
  int fd = std::atoi(argv[3]);
  auto r = ObjectStore::Open(CrashOpts(argv[1]));
  if (!r.ok()) return 2;
  auto store = std::move(r).value();
  std::vector<std::thread> ts;
  for (uint64_t t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (uint64_t id = first_id + t;; id += 4) {
        if (!store->Apply(WriteTxn(id)).ok()) _exit(4);
        Report(fd, id);
        if (id < first_id + kCrashLag) continue;
        uint64_t old = id - kCrashLag;
        switch (CrashFateOf(old)) {
          case CrashFate::kRewrite:
            if (!store->Apply(WriteTxn(old)).ok()) _exit(4);
            break;
          case CrashFate::kRemove:
            Report(fd, old | kCrashRemoving);
            if (!store->Apply(Transaction()
                                  .Remove(kCrashColl, CrashOid(old))
                                  .CollDelete(kCrashColl, "log." + std::to_string(old)))
                     .ok())
              _exit(4);
            Report(fd, old | kCrashRemoved);
            break;
          case CrashFate::kKeep:
            break;
        }
      }
    });
  ts.emplace_back([&] {
    for (;;) {
      auto round = store->Reclaim();
      if (!round.ok()) _exit(6);
      if (round->blocks_moved > 0) Report(fd, kCrashReclaimed | 1);
      else if (round->files_deleted > 0) Report(fd, kCrashReclaimed);
    }
  });
  for (auto& t : ts) t.join();
  return 0;
}
