// The writer half of the crash test (store_crash_test.cc): writes objects
// from 4 threads until killed, reporting each acknowledged (durable) id on a
// pipe. Each transaction writes the object, an omap key and a collection kv
// entry, so the checker can see any half-applied transaction.
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
        Transaction txn;
        txn.WriteFull(kCrashColl, CrashOid(id), Bytes(Pattern(id, CrashSize(id))));
        txn.OmapSet(kCrashColl, CrashOid(id), {{"id", std::to_string(id)}});
        txn.CollPut(kCrashColl, "log." + std::to_string(id), "x");
        if (!store->Apply(std::move(txn)).ok()) _exit(4);
        if (::write(fd, &id, sizeof id) != sizeof id) _exit(5);
      }
    });
  for (auto& t : ts) t.join();
  return 0;
}
