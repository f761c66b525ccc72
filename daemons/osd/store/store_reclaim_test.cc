// Space reclaim (reclaim.h): dead data files are deleted, mostly-dead ones
// compacted, and no read ever changes. Crash safety of reclaim is covered by
// store_crash_test.cc, whose writer reclaims while it is killed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "daemons/osd/store/keys.h"
#include "daemons/osd/store/object_store.h"
#include "daemons/osd/store/store_test_util.h"

using namespace nacre;
using namespace nacre::osd::store;
using nacre::osd::store::testing::Pattern;
using nacre::osd::store::testing::TempDir;

namespace {

const std::string kColl = "3.7";

StoreOptions ReclaimOpts(const TempDir& d) {
  StoreOptions o;
  o.path = d.path() + "/store";
  o.data_file_max = 1 << 20;  // many sealed files from a few MiB
  o.reclaim_interval = 0;     // rounds only when the test asks
  o.compact_chunk = 256 << 10;
  return o;
}

std::unique_ptr<ObjectStore> OpenOrDie(const StoreOptions& o) {
  auto r = ObjectStore::Open(o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

void Must(Status st) {
  INFO(st.ToString());
  REQUIRE(st.ok());
}

ReclaimRound ReclaimOrDie(ObjectStore& s) {
  auto r = s.Reclaim();
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

ObjectId Name(int i) { return ObjectId{"", "obj." + std::to_string(i)}; }

// data/<id>.dat on disk -> size.
std::map<uint32_t, uint64_t> DataFilesOnDisk(const StoreOptions& o) {
  std::map<uint32_t, uint64_t> out;
  for (const auto& e : std::filesystem::directory_iterator(o.path + "/data")) {
    std::string n = e.path().filename().string();
    if (n.size() > 4 && n.substr(n.size() - 4) == ".dat")
      out[static_cast<uint32_t>(std::stoul(n))] = std::filesystem::file_size(e.path());
  }
  return out;
}

uint64_t TotalBytes(const std::map<uint32_t, uint64_t>& files) {
  uint64_t t = 0;
  for (const auto& [id, size] : files) t += size;
  return t;
}

void CheckModel(ObjectStore& s, const std::map<int, std::string>& model) {
  for (const auto& [i, content] : model) {
    INFO("object " << i);
    auto r = s.Read(kColl, Name(i), 0, 0);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    REQUIRE(r->size() == content.size());
    REQUIRE(r->ToString() == content);
  }
  auto list = s.ListObjects(kColl, std::nullopt, 10000);
  REQUIRE(list.ok());
  CHECK(list->objects.size() == model.size());
}

}  // namespace

TEST_CASE("reclaim deletes sealed data files whose objects were all removed", "[store][reclaim]") {
  TempDir d;
  StoreOptions o = ReclaimOpts(d);
  auto s = OpenOrDie(o);
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  constexpr int kObjects = 40;
  constexpr size_t kSize = 256 << 10;  // 4 per data file: 10 files
  for (int i = 0; i < kObjects; ++i)
    Must(s->Apply(Transaction().WriteFull(kColl, Name(i), Bytes::Copy(Pattern(i, kSize)))));
  auto before = DataFilesOnDisk(o);
  REQUIRE(before.size() >= 9);

  // Everything is live: nothing to delete or move.
  ReclaimRound r0 = ReclaimOrDie(*s);
  CHECK(r0.files_deleted == 0);
  CHECK(r0.blocks_moved == 0);
  CHECK(s->stats().data_live_bytes == kObjects * kSize);
  CHECK(s->stats().data_dead_bytes == 0);

  for (int i = 0; i < kObjects; i += 10) {
    Transaction t;
    for (int j = i; j < i + 10; ++j) t.Remove(kColl, Name(j));
    Must(s->Apply(std::move(t)));
  }
  ReclaimRound r = ReclaimOrDie(*s);
  uint32_t tail = s->data_files().tail().file;
  auto after = DataFilesOnDisk(o);
  WARN("data/ before " << before.size() << " files, " << TotalBytes(before) << " bytes; after remove+reclaim "
                       << after.size() << " files, " << TotalBytes(after) << " bytes");
  CHECK(r.files_deleted == before.size() - 1);
  CHECK(r.blocks_moved == 0);
  REQUIRE(after.size() == 1);
  CHECK(after.begin()->first == tail);  // only the tail, which is never deleted
  CHECK(TotalBytes(after) <= o.data_file_max);
  // No snapshot was open, so the descriptors are closed too (the space is
  // really free, not held by an unlinked open file).
  CHECK(s->data_files().open_files() == 1);
  auto st = s->stats();
  CHECK(st.data_files_deleted == before.size() - 1);
  CHECK(st.data_live_bytes == 0);
  CHECK(st.data_files == 1);

  // The store goes on: writes roll past the tail, reopen sees no gap.
  Must(s->Apply(Transaction().WriteFull(kColl, Name(100), Bytes::Copy(Pattern(100, 3 << 20)))));
  s.reset();
  s = OpenOrDie(o);
  auto back = s->Read(kColl, Name(100), 0, 0);
  REQUIRE(back.ok());
  CHECK(back->ToString() == Pattern(100, 3 << 20));
  CHECK(ReclaimOrDie(*s).files_deleted == 1);  // the old tail, dead and sealed now
}

TEST_CASE("reclaim compacts mostly-dead files and every object reads back exactly, also after reopen",
          "[store][reclaim]") {
  TempDir d;
  StoreOptions o = ReclaimOpts(d);
  auto s = OpenOrDie(o);
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  std::mt19937_64 rng(1234);
  std::map<int, std::string> model;
  auto write_full = [&](int i, size_t len) {
    std::string data = Pattern(rng(), len);
    Must(s->Apply(Transaction().WriteFull(kColl, Name(i), Bytes::Copy(data))));
    model[i] = data;
  };
  auto write_at = [&](int i, uint64_t off, size_t len) {
    std::string data = Pattern(rng(), len);
    Must(s->Apply(Transaction().Write(kColl, Name(i), off, Bytes::Copy(data))));
    std::string& m = model[i];
    if (m.size() < off + len) m.resize(off + len, '\0');
    m.replace(off, len, data);
  };
  // Odd sizes: partial last blocks, and some objects under the inline limit.
  for (int i = 0; i < 64; ++i) write_full(i, 1000 + rng() % (400 << 10));

  // Three quarters rewritten whole, some of the rest partly (a few blocks,
  // not block-aligned), a few removed: the first files end up mostly dead.
  for (int i = 0; i < 64; ++i) {
    if (i % 4 != 0) write_full(i, 1000 + rng() % (400 << 10));
    else if (i % 8 == 0) write_at(i, 30000, 70000 + rng() % 70000);
  }
  for (int i = 5; i < 64; i += 16) {
    Must(s->Apply(Transaction().Remove(kColl, Name(i))));
    model.erase(i);
  }
  auto before = DataFilesOnDisk(o);
  ReclaimRound r = ReclaimOrDie(*s);
  auto after = DataFilesOnDisk(o);
  auto st = s->stats();
  WARN("data/ before " << before.size() << " files, " << TotalBytes(before) << " bytes; after reclaim "
                       << after.size() << " files, " << TotalBytes(after) << " bytes; " << r.files_compacted
                       << " compacted, " << r.files_deleted << " deleted, " << r.bytes_moved << " bytes moved, "
                       << r.blocks_skipped << " skipped; live " << st.data_live_bytes << " dead "
                       << st.data_dead_bytes);
  CHECK(r.files_compacted > 0);
  CHECK(r.bytes_moved > 0);
  CHECK(r.blocks_bad == 0);
  // Compacted files emptied and were deleted in the same round.
  CHECK(r.files_deleted >= r.files_compacted);
  CHECK(TotalBytes(after) < TotalBytes(before));
  CHECK(st.data_bytes_compacted == r.bytes_moved);
  // What is left is at least half live: another round has nothing to do.
  ReclaimRound again = ReclaimOrDie(*s);
  CHECK(again.files_compacted == 0);
  CHECK(again.files_deleted == 0);
  CHECK(again.blocks_moved == 0);
  CheckModel(*s, model);

  s.reset();
  s = OpenOrDie(o);
  CheckModel(*s, model);

  // Moved blocks can be overwritten and moved again.
  for (int i = 0; i < 64; i += 4)
    if (model.count(i)) write_full(i, 70000 + rng() % (200 << 10));
  for (int i = 0; i < 64; ++i)
    if (model.count(i) && i % 3 == 0) write_at(i, rng() % (100 << 10), 65536 + rng() % 65536);
  ReclaimOrDie(*s);
  CheckModel(*s, model);
  s.reset();
  s = OpenOrDie(o);
  CheckModel(*s, model);
}

TEST_CASE("reclaim never moves a block that fails its checksum", "[store][reclaim]") {
  TempDir d;
  StoreOptions o = ReclaimOpts(d);
  const std::string keep = Pattern(1, 256 << 10);
  {
    // data/0.dat: keep (its first 256 KiB), then three objects to remove.
    auto s = OpenOrDie(o);
    Must(s->Apply(Transaction().CreateCollection(kColl)));
    Must(s->Apply(Transaction().WriteFull(kColl, Name(0), Bytes::Copy(keep))));
    for (int i = 1; i <= 3; ++i)
      Must(s->Apply(Transaction().WriteFull(kColl, Name(i), Bytes::Copy(Pattern(i + 1, 256 << 10)))));
    Must(s->Apply(Transaction().Remove(kColl, Name(1)).Remove(kColl, Name(2)).Remove(kColl, Name(3))));
    Must(s->Apply(Transaction().WriteFull(kColl, Name(9), Bytes::Copy(Pattern(9, 256 << 10)))));
    REQUIRE(s->data_files().tail().file == 1);  // 0.dat is sealed, 25% live
  }
  {
    // Flip a byte inside keep's second block.
    int fd = ::open((o.path + "/data/0.dat").c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    char c;
    REQUIRE(::pread(fd, &c, 1, 70000) == 1);
    c ^= 0x20;
    REQUIRE(::pwrite(fd, &c, 1, 70000) == 1);
    ::close(fd);
  }
  auto s = OpenOrDie(o);
  ReclaimRound r = ReclaimOrDie(*s);
  CHECK(r.blocks_bad == 1);
  CHECK(r.blocks_moved == 3);
  CHECK(r.files_compacted == 0);
  CHECK(r.files_deleted == 0);
  CHECK(std::filesystem::exists(o.path + "/data/0.dat"));
  CHECK(s->stats().csum_errors == 1);
  // Still refused, never laundered; the good blocks read from their copies.
  CHECK(s->Read(kColl, Name(0), 0, 0).status().code() == Code::kCorruption);
  auto first = s->Read(kColl, Name(0), 0, 65536);
  REQUIRE(first.ok());
  CHECK(first->ToString() == keep.substr(0, 65536));
  auto rest = s->Read(kColl, Name(0), 131072, 0);
  REQUIRE(rest.ok());
  CHECK(rest->ToString() == keep.substr(131072));
  // A known bad block is not re-read (nor re-logged) every round.
  uint64_t csum = s->stats().csum_errors;
  ReclaimRound r2 = ReclaimOrDie(*s);
  CHECK(r2.blocks_bad == 1);
  CHECK(r2.blocks_moved == 0);
  CHECK(s->stats().csum_errors == csum);
  // Repaired by a rewrite (as scrub does), the file empties and goes.
  Must(s->Apply(Transaction().WriteFull(kColl, Name(0), Bytes::Copy(keep))));
  CHECK(ReclaimOrDie(*s).files_deleted == 1);
  CHECK(!std::filesystem::exists(o.path + "/data/0.dat"));
  auto back = s->Read(kColl, Name(0), 0, 0);
  REQUIRE(back.ok());
  CHECK(back->ToString() == keep);
}

TEST_CASE("reads and writes racing background reclaim stay exact", "[store][reclaim]") {
  TempDir d;
  StoreOptions o = ReclaimOpts(d);
  o.reclaim_interval = 0.001;  // back to back (bounded by 10x a round's time)
  o.compact_chunk = 128 << 10;
  auto s = OpenOrDie(o);
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  constexpr int kObjects = 32;
  auto content = [](int i) { return Pattern(1000 + i, 150000 + 1000 * i); };
  for (int i = 0; i < kObjects; ++i) Must(s->Apply(Transaction().WriteFull(kColl, Name(i), Bytes::Copy(content(i)))));

  // Writers rewrite objects with their same bytes (whole, or one block), so
  // readers always know what to expect while extents die and move. Objects
  // i % 4 == 0 are only ever rewritten in part, so their other blocks stay
  // behind in old files: those files get compacted, the rest deleted.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> write_errors{0}, read_errors{0}, mismatches{0}, reads{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; ++t)
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      while (!stop) {
        int i = static_cast<int>(rng() % kObjects);
        std::string c = content(i);
        Transaction txn;
        if (i % 4 != 0) {
          txn.WriteFull(kColl, Name(i), Bytes::Copy(c));
        } else {
          uint64_t b = rng() % (c.size() / kBlockSize);
          txn.Write(kColl, Name(i), b * kBlockSize, Bytes::Copy(c.substr(b * kBlockSize, kBlockSize)));
        }
        if (!s->Apply(std::move(txn)).ok()) ++write_errors;
      }
    });
  for (int t = 0; t < 2; ++t)
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      while (!stop) {
        int i = static_cast<int>(rng() % kObjects);
        auto r = s->Read(kColl, Name(i), 0, 0);
        ++reads;
        if (!r.ok()) ++read_errors;
        else if (r->ToString() != content(i)) ++mismatches;
      }
    });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto enough = [&] {
    auto st = s->stats();
    return st.data_files_compacted >= 3 && st.data_files_deleted >= 10;
  };
  while (!enough() && std::chrono::steady_clock::now() < deadline) {
    // Polls a condition; the work happens on the other threads.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& t : ts) t.join();
  auto st = s->stats();
  WARN("rounds " << st.reclaim_rounds << ", deleted " << st.data_files_deleted << ", compacted "
                 << st.data_files_compacted << ", moved " << st.data_bytes_compacted << " bytes, reads " << reads
                 << ", data files " << DataFilesOnDisk(o).size());
  CHECK(enough());
  CHECK(write_errors == 0);
  CHECK(read_errors == 0);
  CHECK(mismatches == 0);
  for (int i = 0; i < kObjects; ++i) {
    auto r = s->Read(kColl, Name(i), 0, 0);
    REQUIRE(r.ok());
    REQUIRE(r->ToString() == content(i));
  }
  s.reset();
  s = OpenOrDie(o);
  for (int i = 0; i < kObjects; ++i) {
    auto r = s->Read(kColl, Name(i), 0, 0);
    REQUIRE(r.ok());
    REQUIRE(r->ToString() == content(i));
  }
}

TEST_CASE("reclaim options come from the config table and are checked", "[store][reclaim]") {
  Config c("osd.0");
  Must(c.Set("osd_data", "/nonexistent"));
  auto o = StoreOptions::FromConfig(c);
  REQUIRE(o.ok());
  CHECK(o->reclaim_interval == 5);
  CHECK(o->compact_ratio == 0.5);
  CHECK(o->compact_chunk == 4u << 20);
  Must(c.Set("osd_store_reclaim_interval", "0"));
  Must(c.Set("osd_store_compact_ratio", "0.25"));
  REQUIRE(StoreOptions::FromConfig(c).ok());
  CHECK(StoreOptions::FromConfig(c)->reclaim_interval == 0);
  CHECK(StoreOptions::FromConfig(c)->compact_ratio == 0.25);
  Must(c.Set("osd_store_compact_ratio", "1.5"));
  CHECK(StoreOptions::FromConfig(c).status().code() == Code::kInvalid);
}
