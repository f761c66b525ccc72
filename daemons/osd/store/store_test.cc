#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include <rocksdb/db.h>

#include "daemons/osd/store/keys.h"
#include "daemons/osd/store/object_store.h"
#include "daemons/osd/store/store_test_util.h"

using namespace nacre;
using namespace nacre::osd::store;
using nacre::osd::store::testing::Pattern;
using nacre::osd::store::testing::TempDir;

namespace {

StoreOptions Opts(const TempDir& d) {
  StoreOptions o;
  o.path = d.path() + "/store";
  return o;
}

std::unique_ptr<ObjectStore> OpenOrDie(const StoreOptions& o) {
  auto r = ObjectStore::Open(o);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string ReadAll(ObjectStore& s, const std::string& c, const ObjectId& oid) {
  auto r = s.Read(c, oid, 0, 0);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->ToString();
}

void Must(Status st) {
  INFO(st.ToString());
  REQUIRE(st.ok());
}

const std::string kColl = "1.a3";

}  // namespace

TEST_CASE("key escaping keeps order and round-trips", "[store]") {
  std::vector<std::string> names = {"", "a", std::string("a\0", 2), std::string("a\0b", 3), "a\x01", "ab", "b",
                                    std::string("\0", 1), "\xff"};
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    std::string a, b;
    AppendEscaped(&a, names[i]);
    AppendEscaped(&b, names[i + 1]);
    CHECK(a < b);
    std::string_view in = a;
    std::string out;
    REQUIRE(ConsumeEscaped(&in, &out));
    CHECK(out == names[i]);
    CHECK(in.empty());
  }
}

TEST_CASE("data operations match a model, across the inline threshold and a reopen", "[store]") {
  TempDir d;
  StoreOptions o = Opts(d);
  o.data_file_max = 1 << 20;  // roll data files often
  auto s = OpenOrDie(o);
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  ObjectId oid{"", "obj"};
  std::string model;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 300; ++step) {
    Transaction t;
    int kind = static_cast<int>(rng() % 10);
    if (kind < 5) {
      uint64_t off = rng() % (600 << 10);
      size_t len = (rng() % 3 == 0) ? rng() % (300 << 10) : rng() % 5000;
      std::string data = Pattern(rng(), len);
      t.Write(kColl, oid, off, Bytes::Copy(data));
      if (len > 0) {
        if (model.size() < off + len) model.resize(off + len, '\0');
        model.replace(off, len, data);
      } else if (model.empty()) {
        model.clear();
      }
    } else if (kind < 7) {
      uint64_t size = rng() % (700 << 10);
      t.Truncate(kColl, oid, size);
      model.resize(size, '\0');
    } else if (kind < 9) {
      uint64_t off = rng() % (700 << 10), len = rng() % (200 << 10);
      t.Zero(kColl, oid, off, len);
      if (off < model.size()) {
        uint64_t end = std::min<uint64_t>(off + len, model.size());
        std::fill(model.begin() + off, model.begin() + end, '\0');
      }
    } else {
      std::string data = Pattern(rng(), rng() % (200 << 10));
      t.WriteFull(kColl, oid, Bytes::Copy(data));
      model = data;
    }
    Must(s->Apply(std::move(t)));
    if (step % 25 == 0 || step == 299) {
      REQUIRE(ReadAll(*s, kColl, oid) == model);
      auto st = s->Stat(kColl, oid);
      REQUIRE(st.ok());
      REQUIRE(st->size == model.size());
      // A ranged read at an odd offset.
      if (model.size() > 1000) {
        auto r = s->Read(kColl, oid, 777, 100000);
        REQUIRE(r.ok());
        REQUIRE(r->ToString() == model.substr(777, 100000));
      }
    }
    if (step == 150) {
      s.reset();
      s = OpenOrDie(o);
    }
  }
  CHECK(s->data_files().tail().file > 0);  // the data files rolled
}

TEST_CASE("sparse writes, truncate shrink and grow", "[store]") {
  TempDir d;
  auto s = OpenOrDie(Opts(d));
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  ObjectId oid{"ns", "sparse"};
  Must(s->Apply(Transaction().Write(kColl, oid, 1 << 20, Bytes::Copy("tail"))));
  std::string all = ReadAll(*s, kColl, oid);
  REQUIRE(all.size() == (1 << 20) + 4);
  CHECK(all.substr(0, 1 << 20) == std::string(1 << 20, '\0'));
  CHECK(all.substr(1 << 20) == "tail");
  Must(s->Apply(Transaction().Truncate(kColl, oid, (1 << 20) + 2)));
  Must(s->Apply(Transaction().Truncate(kColl, oid, (1 << 20) + 10)));
  CHECK(ReadAll(*s, kColl, oid).substr(1 << 20) == std::string("ta") + std::string(8, '\0'));
  // Reading past the end is short, at the end empty.
  auto r = s->Read(kColl, oid, (1 << 20) + 8, 100);
  REQUIRE(r.ok());
  CHECK(r->size() == 2);
  r = s->Read(kColl, oid, 5 << 20, 100);
  REQUIRE(r.ok());
  CHECK(r->empty());
  CHECK(s->Read(kColl, ObjectId{"", "missing"}, 0, 0).status().code() == Code::kNotFound);
}

TEST_CASE("xattrs, omap, collection kv, listing", "[store]") {
  TempDir d;
  auto s = OpenOrDie(Opts(d));
  Must(s->Apply(Transaction().CreateCollection(kColl).CreateCollection("1.0")));
  CHECK(s->Apply(Transaction().CreateCollection(kColl)).code() == Code::kExists);
  ObjectId oid{"", "dir"};
  Transaction t;
  t.SetXattr(kColl, oid, "_", "oi").SetXattr(kColl, oid, "snapset", "ss");
  std::vector<std::pair<std::string, std::string>> kvs;
  for (int i = 0; i < 100; ++i) kvs.emplace_back("k" + std::to_string(1000 + i), "v" + std::to_string(i));
  t.OmapSet(kColl, oid, kvs);
  t.CollPut(kColl, "pglog.0001", "e1").CollPut(kColl, "pglog.0002", "e2").CollPut(kColl, "info", "i");
  Must(s->Apply(std::move(t)));

  CHECK(*s->GetXattr(kColl, oid, "_") == "oi");
  CHECK(s->GetXattrs(kColl, oid)->size() == 2);
  Must(s->Apply(Transaction().RmXattr(kColl, oid, "_").RmXattr(kColl, oid, "never-set")));
  CHECK(s->GetXattr(kColl, oid, "_").status().code() == Code::kNotFound);

  CHECK(s->OmapGetAll(kColl, oid)->size() == 100);
  auto range = s->OmapGetRange(kColl, oid, "k1010", "k1020", 5);
  REQUIRE(range.ok());
  REQUIRE(range->size() == 5);
  CHECK(range->front().first == "k1010");
  CHECK(s->OmapGetRange(kColl, oid, "k1010", "k1020", 100)->size() == 10);
  auto keys = s->OmapGetKeys(kColl, oid, {"k1005", "nope", "k1099"});
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[1].second == "v99");
  Must(s->Apply(Transaction().OmapRm(kColl, oid, {"k1000"}).OmapRmRange(kColl, oid, "k1050", "k1060")));
  CHECK(s->OmapGetAll(kColl, oid)->size() == 89);
  Must(s->Apply(Transaction().OmapRmRange(kColl, oid, "k1090", "")));
  CHECK(s->OmapGetAll(kColl, oid)->size() == 79);
  Must(s->Apply(Transaction().OmapClear(kColl, oid)));
  CHECK(s->OmapGetAll(kColl, oid)->empty());

  CHECK(*s->CollGet(kColl, "info") == "i");
  CHECK(s->CollScan(kColl, "pglog.", "pglog/", 10)->size() == 2);
  Must(s->Apply(Transaction().CollDelete(kColl, "info")));
  CHECK(s->CollGet(kColl, "info").status().code() == Code::kNotFound);

  // Listing: sorted by (namespace, name), paged, names with NUL bytes.
  std::vector<ObjectId> want;
  Transaction lt;
  for (int i = 0; i < 25; ++i) {
    ObjectId o{i % 2 ? "b" : "", "o" + std::to_string(i) + std::string(i % 3 ? "" : std::string("\0x", 2))};
    lt.Touch(kColl, o);
    want.push_back(o);
  }
  want.push_back(oid);
  std::sort(want.begin(), want.end());
  Must(s->Apply(std::move(lt)));
  std::vector<ObjectId> got;
  std::optional<ObjectId> cursor;
  for (;;) {
    auto page = s->ListObjects(kColl, cursor, 7);
    REQUIRE(page.ok());
    got.insert(got.end(), page->objects.begin(), page->objects.end());
    if (!page->more) break;
    cursor = page->objects.back();
  }
  CHECK(got == want);
  CHECK(s->ListObjects("1.0", std::nullopt, 10)->objects.empty());
  CHECK(s->ListCollections() == std::vector<std::string>{"1.0", kColl});

  Must(s->Apply(Transaction().Remove(kColl, oid)));
  CHECK(s->Stat(kColl, oid).status().code() == Code::kNotFound);
  CHECK(s->Apply(Transaction().Remove(kColl, oid)).code() == Code::kNotFound);
  Must(s->Apply(Transaction().RemoveCollection(kColl)));
  CHECK(s->ListCollections() == std::vector<std::string>{"1.0"});
  CHECK(s->ListObjects(kColl, std::nullopt, 10).status().code() == Code::kNotFound);
  CHECK(s->Apply(Transaction().Touch(kColl, oid)).code() == Code::kNotFound);
}

TEST_CASE("a transaction with a failing op applies nothing; limits refuse", "[store]") {
  TempDir d;
  auto s = OpenOrDie(Opts(d));
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  ObjectId a{"", "a"}, b{"", "b"};
  Transaction t;
  t.Write(kColl, a, 0, Bytes::Copy(Pattern(1, 200 << 10)))
      .SetXattr(kColl, a, "x", "1")
      .CollPut(kColl, "k", "v")
      .OmapRm(kColl, b, {"x"});  // b does not exist: ENOENT at commit time
  CHECK(s->Apply(std::move(t)).code() == Code::kNotFound);
  CHECK(s->Stat(kColl, a).status().code() == Code::kNotFound);
  CHECK(s->CollGet(kColl, "k").status().code() == Code::kNotFound);

  CHECK(s->Apply(Transaction().SetXattr(kColl, a, "x", std::string(65 << 10, 'x'))).code() == Code::kTooBig);
  CHECK(s->Apply(Transaction().Write(kColl, a, 128ull << 20, Bytes::Copy("x"))).code() == Code::kTooBig);
  CHECK(s->Apply(Transaction().Truncate(kColl, a, 1ull << 40)).code() == Code::kTooBig);
  CHECK(s->Apply(Transaction().OmapSet(kColl, a, {{std::string(5000, 'k'), "v"}})).code() == Code::kTooBig);
  CHECK(s->Apply(Transaction().Touch(kColl, ObjectId{"", ""})).code() == Code::kInvalid);
  Transaction many;
  for (int i = 0; i < 1025; ++i) many.Touch(kColl, a);
  CHECK(s->Apply(std::move(many)).code() == Code::kTooBig);
  CHECK(s->Stat(kColl, a).status().code() == Code::kNotFound);
}

TEST_CASE("corrupted data-file and inline blocks are refused, never returned", "[store]") {
  TempDir d;
  StoreOptions o = Opts(d);
  ObjectId big{"", "big"}, small{"", "small"};
  {
    auto s = OpenOrDie(o);
    Must(s->Apply(Transaction().CreateCollection(kColl)));
    Must(s->Apply(Transaction().WriteFull(kColl, big, Bytes::Copy(Pattern(7, 256 << 10)))));
    Must(s->Apply(Transaction().WriteFull(kColl, small, Bytes::Copy(Pattern(8, 1000)))));
  }
  // Flip one byte of the data file inside the big object's second block.
  {
    int fd = ::open((o.path + "/data/0.dat").c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    char c;
    REQUIRE(::pread(fd, &c, 1, 70000) == 1);
    c ^= 0x40;
    REQUIRE(::pwrite(fd, &c, 1, 70000) == 1);
    ::close(fd);
  }
  // Corrupt the inline block's bytes in RocksDB, keeping its old crc.
  {
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), o.path + "/db", &db).ok());
    std::string key = BlockKey(kColl, small, 0), v;
    REQUIRE(db->Get(rocksdb::ReadOptions(), key, &v).ok());
    v[20] ^= 0x01;
    REQUIRE(db->Put(rocksdb::WriteOptions(), key, v).ok());
    delete db;
  }
  auto s = OpenOrDie(o);
  auto r = s->Read(kColl, big, 0, 0);
  CHECK(r.status().code() == Code::kCorruption);
  CHECK(r.status().message().find("checksum") != std::string::npos);
  // Blocks that are intact still read.
  auto first = s->Read(kColl, big, 0, 65536);
  REQUIRE(first.ok());
  CHECK(first->ToString() == Pattern(7, 256 << 10).substr(0, 65536));
  CHECK(s->Read(kColl, small, 0, 0).status().code() == Code::kCorruption);
  // A partial overwrite of a corrupt block cannot launder it either.
  CHECK(s->Apply(Transaction().Write(kColl, small, 10, Bytes::Copy("x"))).code() == Code::kCorruption);
  CHECK(s->stats().csum_errors >= 3);
  // A full overwrite replaces it.
  Must(s->Apply(Transaction().WriteFull(kColl, small, Bytes::Copy("fresh"))));
  CHECK(ReadAll(*s, kColl, small) == "fresh");
}

TEST_CASE("concurrent transactions share syncs (group commit)", "[store]") {
  TempDir d;
  auto s = OpenOrDie(Opts(d));
  Must(s->Apply(Transaction().CreateCollection(kColl)));
  auto before = s->stats();
  constexpr int kThreads = 8, kPer = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        ObjectId oid{"", "t" + std::to_string(t) + "." + std::to_string(i)};
        if (!s->Apply(Transaction().Write(kColl, oid, 0, Bytes::Copy(Pattern(i, 4096)))).ok()) ++failures;
      }
    });
  for (auto& t : ts) t.join();
  auto after = s->stats();
  uint64_t txns = after.txns - before.txns, groups = after.groups - before.groups;
  INFO("txns " << txns << " groups " << groups);
  CHECK(failures == 0);
  CHECK(txns == kThreads * kPer);
  CHECK(groups < txns);
  CHECK(s->ListObjects(kColl, std::nullopt, 1000)->objects.size() == kThreads * kPer);
}

TEST_CASE("reopen ignores a torn data-file tail and unreferenced files", "[store]") {
  TempDir d;
  StoreOptions o = Opts(d);
  ObjectId oid{"", "x"};
  std::string content = Pattern(3, 300 << 10);
  {
    auto s = OpenOrDie(o);
    Must(s->Apply(Transaction().CreateCollection(kColl).WriteFull(kColl, oid, Bytes::Copy(content))));
  }
  uint64_t committed = std::filesystem::file_size(o.path + "/data/0.dat");
  {
    // An append that never got its RocksDB commit, and a rolled file too.
    int fd = ::open((o.path + "/data/0.dat").c_str(), O_WRONLY | O_APPEND);
    std::string junk = Pattern(9, 12345);
    REQUIRE(::write(fd, junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
    ::close(fd);
    fd = ::open((o.path + "/data/1.dat").c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(::write(fd, junk.data(), 100) == 100);
    ::close(fd);
  }
  auto s = OpenOrDie(o);
  CHECK(std::filesystem::file_size(o.path + "/data/0.dat") == committed);
  CHECK(!std::filesystem::exists(o.path + "/data/1.dat"));
  CHECK(ReadAll(*s, kColl, oid) == content);
  ObjectId y{"", "y"};
  Must(s->Apply(Transaction().WriteFull(kColl, y, Bytes::Copy(content))));
  CHECK(ReadAll(*s, kColl, y) == content);
  CHECK(ReadAll(*s, kColl, oid) == content);
}

// Needs root to mount a small tmpfs; skipped otherwise.
TEST_CASE("a full disk gives ENOSPC and loses nothing acknowledged", "[store][enospc]") {
  TempDir d;
  std::string mnt = d.path() + "/mnt";
  std::filesystem::create_directories(mnt);
  if (::geteuid() != 0 || std::system(("mount -t tmpfs -o size=24m tmpfs " + mnt + " 2>/dev/null").c_str()) != 0) {
    WARN("skipped: cannot mount a tmpfs");
    return;
  }
  struct Unmount {
    std::string m;
    ~Unmount() { (void)std::system(("umount " + m).c_str()); }
  } unmount{mnt};
  StoreOptions o;
  o.path = mnt + "/store";
  std::vector<int> acked;
  Status last;
  {
    auto s = OpenOrDie(o);
    Must(s->Apply(Transaction().CreateCollection(kColl)));
    for (int i = 0; i < 100; ++i) {
      last = s->Apply(Transaction().WriteFull(kColl, ObjectId{"", std::to_string(i)},
                                              Bytes::Copy(Pattern(i, 1 << 20))));
      if (!last.ok()) break;
      acked.push_back(i);
    }
    INFO(last.ToString());
    CHECK(last.code() == Code::kNoSpace);
    REQUIRE(!acked.empty());
    // What was acknowledged still reads back while the disk is full.
    for (int i : acked) REQUIRE(ReadAll(*s, kColl, ObjectId{"", std::to_string(i)}) == Pattern(i, 1 << 20));
  }
  // Make room and reopen: everything acknowledged is intact, writes work.
  REQUIRE(std::system(("mount -o remount,size=256m " + mnt).c_str()) == 0);
  auto s = OpenOrDie(o);
  for (int i : acked) REQUIRE(ReadAll(*s, kColl, ObjectId{"", std::to_string(i)}) == Pattern(i, 1 << 20));
  Must(s->Apply(Transaction().WriteFull(kColl, ObjectId{"", "after"}, Bytes::Copy(Pattern(5, 1 << 20)))));
  CHECK(ReadAll(*s, kColl, ObjectId{"", "after"}) == Pattern(5, 1 << 20));
}
