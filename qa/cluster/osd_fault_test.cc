// OSD fault tests against real daemons: acknowledged writes survive an OSD
// killed with SIGKILL and another marked out, and end with three verified
// copies; an OSD back after its log was trimmed is backfilled to exact
// copies; a replica's full disk fails writes without losing any and heals
// when space returns; a PG whose log and listing outgrow a message header
// still peers; recovery copies an omap larger than a header; xattr/omap values near the header cap never hang a write; a
// corrupted chunk is never returned; bad requests get errors while the OSD
// keeps serving.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "common/asio_event_loop.h"
#include "common/keyring.h"
#include "common/msg/tcp_messenger.h"
#include "cluster/placement.h"
#include "librados/rados.h"
#include "messenger.pb.h"
#include "osd.pb.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;
using nacre::rados::AioCompletionRef;

namespace {

const char* kConf =
    "mon osd report timeout = 10\nosd beacon interval = 0.5\nosd heartbeat interval = 0.5\n"
    "osd heartbeat grace = 3\nosd pg stats interval = 0.5\nmon osd min down reporters = 1\n";

std::string Content(const std::string& oid, uint32_t gen, size_t size) {
  std::string s(size, '\0');
  std::mt19937_64 g(std::hash<std::string>{}(oid) * 31 + gen);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = g();
    memcpy(&s[i], &v, std::min<size_t>(8, size - i));
  }
  return s;
}

std::unique_ptr<rados::Rados> Connect(TestCluster& c) {
  Config cfg("client.admin");
  REQUIRE(cfg.ApplyFile(c.conf()).ok());
  REQUIRE(cfg.Set("rados_osd_op_timeout", "180").ok());
  auto r = std::make_unique<rados::Rados>();
  Status s = r->Connect(cfg, 30);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return r;
}

int OsdsUp(TestCluster& c) {
  nlohmann::json dump = c.JsonCommand("osd dump");
  int up = 0;
  if (dump.is_object())
    for (const auto& o : dump["osds"]) up += o["up"] == 1;
  return up;
}

void CreatePool(TestCluster& c, const std::string& name, int pg_num, int size, int min_size) {
  auto r = c.Command("osd pool create", {{"pool", name}, {"pg_num", std::to_string(pg_num)}});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->status().code() == 0);
  for (auto [var, val] : {std::pair{"size", size}, std::pair{"min_size", min_size}}) {
    auto s = c.Command("osd pool set", {{"pool", name}, {"var", var}, {"val", std::to_string(val)}});
    REQUIRE(s.ok());
    INFO(s->status().message());
    REQUIRE(s->status().code() == 0);
  }
}

// The TestCluster index of the OSD the monitors call osd.<id>.
int IndexOf(TestCluster& c, int id) {
  for (int n = 0; n < 16; ++n) {
    std::ifstream f(c.dir() + "/osd-" + std::to_string(n) + "/whoami");
    int who = -1;
    if (f >> who && who == id) return n;
  }
  return -1;
}

}  // namespace

TEST_CASE("OSD faults: acknowledged writes survive kill -9 and out, then 3 verified copies", "[qa][osd][fault]") {
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 4; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 4; }, std::chrono::seconds(60)));
  CreatePool(c, "ft", 16, 3, 2);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("ft");
  REQUIRE(io.ok());

  // What clients were told: object -> acknowledged generation. An op that
  // failed may or may not have applied: both generations are then allowed.
  std::mutex mu;
  std::map<std::string, std::set<uint32_t>> allowed;
  std::map<std::string, uint32_t> acked;
  std::atomic<int> done{0}, failed{0};
  const int kObjects = 2000;
  auto size_of = [](int i) { return static_cast<size_t>(i % 10 == 0 ? 300000 : 512 + (i * 37) % 8192); };
  auto writer = [&](int first, int step) {
    std::mt19937 rng(first);
    for (int i = first; i < kObjects; i += step) {
      // Some writes overwrite an earlier object instead.
      int target = (i > 100 && rng() % 5 == 0) ? static_cast<int>(rng() % i) : i;
      std::string oid = "obj-" + std::to_string(target);
      uint32_t gen = static_cast<uint32_t>(i + 1);
      {
        std::lock_guard<std::mutex> g(mu);
        allowed[oid].insert(gen);
      }
      Status s = io->WriteFull(oid, Bytes(Content(oid, gen, size_of(target))));
      std::lock_guard<std::mutex> g(mu);
      if (s.ok()) {
        acked[oid] = gen;
        allowed[oid] = {gen};
        ++done;
      } else {
        ++failed;
      }
    }
  };
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) writers.emplace_back(writer, t, 4);

  const int killed = IndexOf(c, 1);
  REQUIRE(killed >= 0);
  REQUIRE(WaitFor([&] { return done >= 400; }, std::chrono::seconds(180)));
  c.KillOsd(killed);
  REQUIRE(WaitFor([&] { return done >= 900; }, std::chrono::seconds(240)));
  auto out = c.Command("osd out", {{"ids", "2"}});
  REQUIRE(out.ok());
  REQUIRE(out->status().code() == 0);
  REQUIRE(WaitFor([&] { return done >= 1400; }, std::chrono::seconds(240)));
  REQUIRE(c.StartOsd(killed).ok());
  for (auto& t : writers) t.join();
  INFO("acknowledged " << done << ", failed " << failed);
  CHECK(done + failed == kObjects);
  CHECK(done >= 1900);

  std::string why;
  bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(300));
  INFO(why);
  REQUIRE(clean);

  // Every object reads back with an allowed content; acknowledged ones with
  // exactly the last acknowledged generation or a later attempted one.
  size_t checked = 0;
  for (const auto& [oid, gens] : allowed) {
    auto r = io->Read(oid);
    auto it = acked.find(oid);
    if (it == acked.end() && !r.ok()) continue;  // never acknowledged, never applied
    REQUIRE(r.ok());
    std::string got = r->ToString();
    int target = std::stoi(oid.substr(4));
    bool match = false;
    for (uint32_t g : gens) match |= got == Content(oid, g, size_of(target));
    if (it != acked.end()) match |= got == Content(oid, it->second, size_of(target));
    INFO(oid);
    REQUIRE(match);
    ++checked;
  }
  CHECK(checked >= acked.size());
}

TEST_CASE("OSD faults: an OSD back after its log was trimmed is backfilled to exact copies", "[qa][osd][fault]") {
  // Logs of 20 entries: while osd.2 is down every PG moves past its log, so
  // it comes back to a backfill (listing compared, not a log replay) and must
  // end with exactly the authoritative objects: overwritten ones replaced,
  // removed ones dropped, new ones added, unchanged ones kept.
  TestCluster c(3);
  REQUIRE(c.Create(std::string(kConf) + "osd pg log max entries = 20\n").ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  CreatePool(c, "bf", 4, 3, 2);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("bf");
  REQUIRE(io.ok());
  std::map<std::string, uint32_t> model;  // object -> generation; absent = removed
  auto size_of = [](const std::string& oid) { return 100 + std::hash<std::string>{}(oid) % 20000; };
  auto put = [&](const std::string& oid, uint32_t gen) {
    Status s = io->WriteFull(oid, Bytes(Content(oid, gen, size_of(oid))));
    INFO(oid << ": " << s.ToString());
    REQUIRE(s.ok());
    model[oid] = gen;
  };
  for (int i = 0; i < 300; ++i) put("o-" + std::to_string(i), 1);
  std::string why;
  REQUIRE(WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(120)));

  const int down = IndexOf(c, 2);
  REQUIRE(down >= 0);
  c.KillOsd(down);
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 2; }, std::chrono::seconds(60)));
  for (int i = 0; i < 300; i += 3) put("o-" + std::to_string(i), 2);  // overwritten
  for (int i = 1; i < 300; i += 10) {                                  // removed
    std::string oid = "o-" + std::to_string(i);
    Status s = io->Remove(oid);
    INFO(oid << ": " << s.ToString());
    REQUIRE(s.ok());
    model.erase(oid);
  }
  for (int i = 300; i < 360; ++i) put("o-" + std::to_string(i), 1);  // new
  REQUIRE(c.StartOsd(down).ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(300));
  INFO(why);
  REQUIRE(clean);

  for (const auto& [oid, gen] : model) {
    auto r = io->Read(oid);
    INFO(oid << ": " << r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->ToString() == Content(oid, gen, size_of(oid)));
  }
  for (int i = 1; i < 300; i += 10) CHECK(io->Read("o-" + std::to_string(i)).status().code() == Code::kNotFound);
  auto list = io->ListObjects();
  REQUIRE(list.ok());
  CHECK(list->size() == model.size());
  // The copies agree (digests over every object's version, per OSD) and
  // hold exactly the model's objects.
  nlohmann::json d = c.JsonCommand("pg dump", {{"format", "json"}});
  uint64_t per_copy = 0;
  for (const auto& pg : d["pg_stats"]) per_copy += pg["copies"][0]["num_objects"].get<uint64_t>();
  CHECK(per_copy == model.size());
}

TEST_CASE("OSD faults: a replica's full disk fails writes, loses nothing, and recovers when space returns",
          "[qa][osd][fault]") {
  // osd slot 2 keeps its data on a 64 MiB tmpfs. Writes fill it: the writes
  // it cannot store fail (ENOSPC) while the others keep their copies; no
  // acknowledged object is lost, and once the tmpfs grows, recovery gives
  // every PG three agreeing copies again (copies that silently differ would
  // fail that check).
  if (::geteuid() != 0) FAIL("needs root to mount a tmpfs");
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  const std::string mnt = c.dir() + "/osd-2";
  REQUIRE(::mkdir(mnt.c_str(), 0755) == 0);
  REQUIRE(std::system(("mount -t tmpfs -o size=64m tmpfs " + mnt).c_str()) == 0);
  struct Unmount {
    std::string m;
    ~Unmount() { (void)std::system(("umount -l " + m).c_str()); }
  } unmount{mnt};
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  CreatePool(c, "full", 8, 3, 2);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("full");
  REQUIRE(io.ok());

  std::map<std::string, uint32_t> acked;
  int failed = 0;
  const size_t kSize = 1 << 20;
  for (int i = 0; i < 160 && failed < 8; ++i) {
    std::string oid = "f-" + std::to_string(i);
    Status s = io->WriteFull(oid, Bytes(Content(oid, 1, kSize)));
    if (s.ok()) {
      acked[oid] = 1;
    } else {
      INFO(oid << ": " << s.ToString());
      CHECK(s.code() == Code::kNoSpace);
      ++failed;
    }
  }
  INFO("acknowledged " << acked.size() << ", failed " << failed);
  REQUIRE(failed > 0);  // the small disk did fill
  for (const auto& [oid, gen] : acked) {
    auto r = io->Read(oid);
    INFO(oid << ": " << r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->ToString() == Content(oid, gen, kSize));
  }

  REQUIRE(std::system(("mount -o remount,size=1g " + mnt).c_str()) == 0);
  std::string why;
  bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(300));
  INFO(why);
  REQUIRE(clean);
  for (const auto& [oid, gen] : acked) {
    auto r = io->Read(oid);
    REQUIRE(r.ok());
    CHECK(r->ToString() == Content(oid, gen, kSize));
  }
}

TEST_CASE("OSD faults: a PG with a long log and many objects peers again after a restart", "[qa][osd][fault]") {
  // One PG of 2,500 objects: its log (2,500 entries) and object listing are
  // far larger than a message header may be (ms_max_header_bytes, 64 KiB),
  // so peering must carry them in the payload or never finish.
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  CreatePool(c, "one", 1, 3, 2);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("one");
  REQUIRE(io.ok());
  const int kObjects = 2500;
  std::vector<AioCompletionRef> window;
  for (int i = 0; i < kObjects; ++i) {
    std::string oid = "long-log-object-" + std::to_string(i);
    window.push_back(rados::MakeCompletion());
    io->AioWriteFull(oid, Bytes(Content(oid, 1, 64)), window.back());
    if (window.size() == 64 || i + 1 == kObjects) {
      for (auto& w : window) {
        w->Wait();
        REQUIRE(w->status().ok());
      }
      window.clear();
    }
  }
  std::string why;
  REQUIRE(WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(120)));
  // Restart every OSD in turn: each restart re-peers the PG with full logs.
  for (int n = 0; n < 3; ++n) {
    c.KillOsd(n);
    REQUIRE(WaitFor([&] { return OsdsUp(c) == 2; }, std::chrono::seconds(60)));
    REQUIRE(c.StartOsd(n).ok());
    REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
    bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(120));
    INFO("after restarting slot " << n << ": " << why);
    REQUIRE(clean);
  }
  auto list = io->ListObjects();
  REQUIRE(list.ok());
  CHECK(list->size() == static_cast<size_t>(kObjects));
  for (int i = 0; i < kObjects; i += 97) {
    std::string oid = "long-log-object-" + std::to_string(i);
    auto r = io->Read(oid);
    REQUIRE(r.ok());
    CHECK(r->ToString() == Content(oid, 1, 64));
  }
}

TEST_CASE("OSD faults: a corrupted chunk is never returned", "[qa][osd][fault]") {
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  CreatePool(c, "cr", 8, 3, 2);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("cr");
  REQUIRE(io.ok());
  std::string why;
  REQUIRE(WaitFor([&] { return c.AllPgsCleanWithCopies(0, &why) || why.find("copies") != std::string::npos; }, std::chrono::seconds(120)));
  std::string good = Content("victim", 1, 1 << 20);
  Status ws = io->WriteFull("victim", Bytes(std::string(good)));
  INFO(ws.ToString());
  REQUIRE(ws.ok());
  REQUIRE(WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(120)));

  // Flip a byte of the object's bytes in every copy's data files but one
  // OSD's, then in all of them.
  auto corrupt = [&](int osd) {
    std::string dir = c.dir() + "/osd-" + std::to_string(IndexOf(c, osd)) + "/data";
    std::string needle = good.substr(500000, 64);
    DIR* d = opendir(dir.c_str());
    REQUIRE(d);
    bool hit = false;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string path = dir + "/" + e->d_name;
      std::ifstream f(path, std::ios::binary);
      std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      size_t at = all.find(needle);
      if (at == std::string::npos) continue;
      int fd = open(path.c_str(), O_WRONLY);
      REQUIRE(fd >= 0);
      char b = static_cast<char>(all[at] ^ 0x5a);
      REQUIRE(pwrite(fd, &b, 1, static_cast<off_t>(at)) == 1);
      close(fd);
      hit = true;
    }
    closedir(d);
    REQUIRE(hit);
  };
  // The primary's copy first: the read must come back good (repaired from
  // a replica), every time.
  nlohmann::json dump = c.JsonCommand("pg dump", {{"format", "json"}});
  proto::PoolInfo pi;
  pi.set_pg_num(8);
  auto pgid = placement::ObjectToPg(pi, "victim");
  int primary = -1;
  for (const auto& pg : dump["pg_stats"])
    if (pg["pgid"].get<std::string>().substr(pg["pgid"].get<std::string>().find('.')) ==
        placement::PgId{0, pgid.seed}.ToString().substr(1))
      primary = pg["primary"].get<int>();
  REQUIRE(primary >= 0);
  corrupt(primary);
  for (int i = 0; i < 3; ++i) {
    auto r = io->Read("victim");
    REQUIRE(r.ok());
    REQUIRE(r->ToString() == good);
  }
  // Every copy bad: a clear error, never the bytes.
  for (int osd = 0; osd < 3; ++osd) corrupt(osd);
  auto r = io->Read("victim", 0, 0);
  if (r.ok()) REQUIRE(r->ToString() == good);  // repaired copy read before the second damage
  // A fresh object on which every copy is damaged.
  std::string good2 = Content("victim2", 1, 1 << 20);
  REQUIRE(io->WriteFull("victim2", Bytes(std::string(good2))).ok());
  good = good2;
  for (int osd = 0; osd < 3; ++osd) corrupt(osd);
  auto r2 = io->Read("victim2");
  if (r2.ok()) CHECK(r2->ToString() == good2);
  else CHECK((r2.status().code() == Code::kCorruption || r2.status().code() == Code::kIO ||
              r2.status().code() == Code::kTimeout));
}

TEST_CASE("OSD faults: recovery copies an object whose omap outgrows a message header", "[qa][osd][fault]") {
  // 2,000 omap values of 100 bytes (about 200 KiB), xattrs and data, written
  // while one OSD is down; it recovers the object and the PG gets clean.
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  CreatePool(c, "om", 1, 3, 1);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("om");
  REQUIRE(io.ok());
  std::string why;
  REQUIRE(WaitFor([&] { return c.AllPgsCleanWithCopies(0, &why) || why.find("copies") != std::string::npos; }, std::chrono::seconds(120)));
  c.KillOsd(2);
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 2; }, std::chrono::seconds(60)));

  std::map<std::string, std::string> omap;
  for (int b = 0; b < 10; ++b) {
    std::map<std::string, std::string> batch;
    for (int k = 0; k < 200; ++k) {
      std::string key = "key-" + std::to_string(b * 200 + k);
      batch[key] = Content(key, 1, 100);
    }
    REQUIRE(io->OmapSet("big-omap", batch).ok());
    omap.insert(batch.begin(), batch.end());
  }
  const std::string data = Content("big-omap", 1, 100000);
  REQUIRE(io->Write("big-omap", Bytes(std::string(data)), 0).ok());
  REQUIRE(io->SetXattr("big-omap", "color", "blue").ok());

  REQUIRE(c.StartOsd(2).ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(120));
  INFO(why);
  REQUIRE(clean);
  // The push carried the omap in its payload; before, its header was over
  // the cap and recovery never finished.
  // Read back 200 values at a time: a reply carries omap values in its
  // header (64 KiB cap; see the notes in doc/librados.md).
  std::map<std::string, std::string> vals;
  std::string after;
  for (;;) {
    auto part = io->OmapGetVals("big-omap", after, 200);
    INFO(part.status().ToString());
    REQUIRE(part.ok());
    if (part->empty()) break;
    vals.insert(part->begin(), part->end());
    after = part->rbegin()->first;
  }
  CHECK(vals == omap);
  auto got = io->Read("big-omap");
  REQUIRE(got.ok());
  CHECK(got->ToString() == data);
  auto x = io->GetXattr("big-omap", "color");
  REQUIRE(x.ok());
  CHECK(*x == "blue");
}

TEST_CASE("OSD faults: xattr and omap values near the header cap never hang or split a write", "[qa][osd]") {
  // Such values travel in message headers (64 KiB): a request the client
  // could send but whose replicated form would not fit must be refused
  // before it is applied, not left half-replicated and unanswered.
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 3; }, std::chrono::seconds(60)));
  CreatePool(c, "hc", 4, 3, 2);
  Config cfg("client.admin");
  REQUIRE(cfg.ApplyFile(c.conf()).ok());
  REQUIRE(cfg.Set("rados_osd_op_timeout", "20").ok());
  rados::Rados rados;
  REQUIRE(rados.Connect(cfg, 30).ok());
  auto io = rados.CreateIoCtx("hc");
  REQUIRE(io.ok());
  int ok = 0, refused = 0;
  for (size_t size = (64 << 10) - 640; size <= (64 << 10); size += 32) {
    std::string oid = "x-" + std::to_string(size);
    Status s = io->SetXattr(oid, "big", std::string(size, 'v'));
    INFO(oid << ": " << s.ToString());
    CHECK(s.code() != Code::kTimeout);
    if (s.ok()) {
      ++ok;
      auto got = io->GetXattr(oid, "big");
      REQUIRE(got.ok());
      CHECK(got->size() == size);
    } else {
      ++refused;
    }
  }
  INFO("stored " << ok << ", refused " << refused);
  CHECK(ok > 0);
  CHECK(refused > 0);
  std::string why;
  bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(120));
  INFO(why);
  CHECK(clean);
}

TEST_CASE("OSD faults: bad requests get errors and the OSD keeps serving", "[qa][osd]") {
  TestCluster c(3);
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(3));
  REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 1; }, std::chrono::seconds(60)));
  CreatePool(c, "br", 4, 1, 1);
  auto rados = Connect(c);
  CHECK(rados->CreateIoCtx("no-such-pool").status().code() == Code::kNotFound);
  auto io = rados->CreateIoCtx("br");
  REQUIRE(io.ok());
  REQUIRE(io->WriteFull("ok", Bytes(std::string("hello"))).ok());
  // Beyond the object size limit.
  CHECK(io->Write("big", Bytes(std::string(4096, 'x')), 128ull << 20).code() == Code::kTooBig);

  // Raw frames: garbage bytes, then well-framed nonsense, from a socket.
  nlohmann::json dump = c.JsonCommand("osd dump");
  REQUIRE(dump.is_object());
  INFO(dump.dump());
  const auto& addr = dump["osds"][0]["addr"];
  std::string host;
  int port = 0;
  if (addr.is_string()) {
    auto a = msg::EntityAddr::Parse(addr.get<std::string>());
    REQUIRE(a.ok());
    host = a->host;
    port = a->port;
  } else {
    host = addr["host"];
    port = addr["port"];
  }
  ProcResult junk = RunShell("bash -c 'head -c 100000 /dev/urandom > /dev/tcp/" + host + "/" +
                             std::to_string(port) + "' 2>/dev/null; echo sent");
  CHECK(junk.out.find("sent") != std::string::npos);

  // Malformed ops through an authenticated connection: an undecodable
  // header, an unknown pool, data lengths that do not add up.
  AsioEventLoop loop;
  std::thread lt([&] { loop.Run(); });
  auto kr = Keyring::Load(c.dir() + "/keyring");
  REQUIRE(kr.ok());
  msg::TcpMessenger ms(
      loop, "client.admin", [](const std::string& e) -> Result<std::string> { return NotFound(e); },
      kr->Get("client.admin")->secret, msg::TcpMessengerOptions{});
  struct Sink : msg::Dispatcher {
    std::mutex mu;
    std::vector<proto::OsdOpReply> replies;
    void OnMessage(const msg::ConnectionRef&, msg::Message&& m) override {
      proto::OsdOpReply r;
      if (m.type == proto::MSG_OSD_OP_REPLY && m.ParseHeader(&r)) {
        std::lock_guard<std::mutex> g(mu);
        replies.push_back(r);
      }
    }
  } sink;
  ms.SetDispatcher(&sink);
  REQUIRE(ms.Start().ok());
  auto con = ms.Connect("osd.0", {host, static_cast<uint16_t>(port)}, msg::Policy::kLossy);
  msg::Message bad;
  bad.type = proto::MSG_OSD_OP;
  bad.header = "\xff\xff\xff garbage";
  REQUIRE(con->Send(std::move(bad)).ok());
  proto::OsdOpRequest req;
  req.set_tid(7);
  req.set_pool(999);
  req.set_oid("x");
  req.set_epoch(1);
  req.add_ops()->set_op(proto::OSD_OP_STAT);
  REQUIRE(con->Send(msg::Message::Make(proto::MSG_OSD_OP, req)).ok());
  proto::OsdOpRequest lie = req;
  lie.set_tid(8);
  lie.set_pool(io->pool_id());
  lie.mutable_ops(0)->set_op(proto::OSD_OP_WRITE);
  lie.mutable_ops(0)->set_data_len(1000);
  REQUIRE(con->Send(msg::Message::Make(proto::MSG_OSD_OP, lie, Bytes(std::string(10, 'x')))).ok());
  bool answered = WaitFor(
      [&] {
        std::lock_guard<std::mutex> g(sink.mu);
        return sink.replies.size() >= 3;
      },
      std::chrono::seconds(30));
  REQUIRE(answered);
  {
    std::lock_guard<std::mutex> g(sink.mu);
    for (const auto& r : sink.replies) {
      INFO("tid " << r.tid() << " code " << r.status().code());
      CHECK(r.status().code() != 0);
      if (r.tid() == 7) CHECK(r.status().code() == ENOENT);
      if (r.tid() == 8) CHECK(r.status().code() == EINVAL);
    }
  }
  ms.Shutdown();
  loop.Stop();
  lt.join();

  // Still serving.
  auto back = io->Read("ok");
  REQUIRE(back.ok());
  CHECK(back->ToString() == "hello");
  CHECK(OsdsUp(c) == 1);
}
