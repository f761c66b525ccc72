// librados and `nacre rados` against real daemons: 3 monitors, 3 OSDs, a
// pool of size 3. Objects from 0 bytes to 16 MiB come back byte for byte;
// the object API keeps its semantics (append, truncate, zero, remove, stat,
// exclusive create, xattrs, omap, compound ops, listing); an unknown pool is
// an error before anything is sent; and 10,000 objects written with three
// OSDs all read back again after two more OSDs join and data moves.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <random>

#include "librados/rados.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;
using nacre::rados::AioCompletionRef;
using nacre::rados::IoCtx;

namespace {

const char* kConf = "mon osd report timeout = 5\nosd beacon interval = 0.5\n";

// Deterministic contents per (name, size): a failing read names the object.
std::string Content(const std::string& oid, size_t size) {
  std::string s(size, '\0');
  std::mt19937_64 gen(std::hash<std::string>{}(oid) ^ size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = gen();
    memcpy(&s[i], &v, std::min<size_t>(8, size - i));
  }
  return s;
}

// "" if equal, else where they first differ (a 16 MiB CHECK would print it all).
std::string Diff(std::string_view got, std::string_view want) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) return "first difference at byte " + std::to_string(i);
  return "";
}

int OsdsUp(TestCluster& c) {
  nlohmann::json dump = c.JsonCommand("osd dump");
  int up = 0;
  if (dump.is_object())
    for (const auto& o : dump["osds"]) up += o["up"] == 1;
  return up;
}

// Monitors, `osds` OSDs all up, and pool `pool` (size 3, pg_num PGs).
void StartCluster(TestCluster& c, int osds, const std::string& pool, int pg_num) {
  REQUIRE(c.Create(kConf).ok());
  REQUIRE(c.WaitForQuorum(static_cast<size_t>(c.num_mons())));
  for (int i = 0; i < osds; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == osds; }, std::chrono::seconds(60)));
  auto r = c.Command("osd pool create", {{"pool", pool}, {"pg_num", std::to_string(pg_num)}});
  REQUIRE(r.ok());
  INFO(r->status().message());
  REQUIRE(r->status().code() == 0);
}

std::unique_ptr<rados::Rados> Connect(TestCluster& c) {
  Config cfg("client.admin");
  REQUIRE(cfg.ApplyFile(c.conf()).ok());
  REQUIRE(cfg.Set("rados_osd_op_timeout", "120").ok());
  // NACRE_TEST_RADOS_DEBUG=1: the client's resends and retries on stderr.
  if (getenv("NACRE_TEST_RADOS_DEBUG")) {
    REQUIRE(cfg.Set("debug_rados", "debug").ok());
    REQUIRE(cfg.ApplyLogging().ok());
  }
  auto r = std::make_unique<rados::Rados>();
  Status s = r->Connect(cfg, 30);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return r;
}

}  // namespace

TEST_CASE("librados: objects of 0 bytes to 16 MiB and the object API semantics", "[qa][rados]") {
  TestCluster c(3);
  StartCluster(c, 3, "rt", 16);
  auto rados = Connect(c);

  SECTION("unknown pool is an error before anything is sent") {
    auto io = rados->CreateIoCtx("no-such-pool");
    CHECK(io.status().code() == Code::kNotFound);
    ProcResult r = c.Cli("rados -p no-such-pool ls");
    CHECK(r.exit_code == ENOENT);
    CHECK(r.out.find("no-such-pool") != std::string::npos);
  }

  auto io = rados->CreateIoCtx("rt");
  REQUIRE(io.ok());

  SECTION("put and get, every byte") {
    const size_t M = 1 << 20;
    std::vector<size_t> sizes = {0, 1, 2, 3, 100, 511, 4095, 4096, 4097, 65535, 65536, 65537,
                                 M - 1, M + 13, 4 * M, 4 * M + 1, 16 * M - 1, 16 * M};
    for (size_t size : sizes) {
      std::string oid = "sized-" + std::to_string(size);
      Status s = io->WriteFull(oid, Bytes(Content(oid, size)));
      INFO(oid << ": " << s.ToString());
      // A stuck op is the OSD's to explain: show where the PGs are.
      if (!s.ok()) UNSCOPED_INFO(c.Cli("pg dump").out);
      REQUIRE(s.ok());
    }
    for (size_t size : sizes) {
      std::string oid = "sized-" + std::to_string(size);
      auto got = io->Read(oid);
      INFO(oid << ": " << got.status().ToString());
      REQUIRE(got.ok());
      CHECK(Diff(got->view(), Content(oid, size)) == "");
      auto st = io->Stat(oid);
      REQUIRE(st.ok());
      CHECK(st->size == size);
      CHECK(st->mtime_ns > 0);
    }
    // Partial reads and writes at offsets.
    std::string oid = "sized-" + std::to_string(4 * M);
    std::string want = Content(oid, 4 * M);
    auto mid = io->Read(oid, M + 7, 1000);
    REQUIRE(mid.ok());
    CHECK(mid->view() == std::string_view(want).substr(M + 7, 1000));
    REQUIRE(io->Write(oid, Bytes::Copy("patch"), 10).ok());
    want.replace(10, 5, "patch");
    CHECK(Diff(io->Read(oid)->view(), want) == "");
    auto past = io->Read(oid, 8 * M, 10);  // reading past the end reads nothing
    REQUIRE(past.ok());
    CHECK(past->empty());

    // The CLI moves the same bytes (in 4 MiB pieces) through files and pipes.
    std::string in = c.dir() + "/in.bin", out = c.dir() + "/out.bin";
    std::string data = Content("cli", 9 * M + 5);
    std::ofstream(in, std::ios::binary) << data;
    ProcResult put = c.Cli("rados -p rt put cliobj " + in);
    INFO(put.out);
    REQUIRE(put.exit_code == 0);
    REQUIRE(c.Cli("rados -p rt get cliobj " + out).exit_code == 0);
    std::ifstream f(out, std::ios::binary);
    std::string back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK(Diff(back, data) == "");
    ProcResult st = c.Cli("rados -p rt stat cliobj");
    CHECK(st.exit_code == 0);
    CHECK(st.out.find("rt/cliobj mtime ") == 0);
    CHECK(st.out.find(", size " + std::to_string(data.size())) != std::string::npos);
    ProcResult piped = c.Cli("rados -p rt get sized-100 - | wc -c");
    CHECK(piped.out == "100\n");
    ProcResult from_stdin = c.Cli("rados -p rt put piped - < " + in);
    CHECK(from_stdin.exit_code == 0);
    CHECK(io->Stat("piped")->size == data.size());
    CHECK(c.Cli("rados -p rt rm cliobj").exit_code == 0);
    CHECK(c.Cli("rados -p rt stat cliobj").exit_code == ENOENT);
  }

  SECTION("append, truncate, zero, remove, stat, exclusive create") {
    CHECK(io->Read("none").status().code() == Code::kNotFound);
    CHECK(io->Stat("none").status().code() == Code::kNotFound);
    CHECK(io->Remove("none").code() == Code::kNotFound);

    REQUIRE(io->Append("a", Bytes::Copy("hello")).ok());
    REQUIRE(io->Append("a", Bytes::Copy(" world")).ok());
    CHECK(io->Read("a")->view() == "hello world");
    REQUIRE(io->Truncate("a", 5).ok());
    CHECK(io->Read("a")->view() == "hello");
    REQUIRE(io->Truncate("a", 8).ok());  // grows with zeros
    CHECK(io->Read("a")->view() == std::string_view("hello\0\0\0", 8));
    REQUIRE(io->Zero("a", 1, 2).ok());
    CHECK(io->Read("a")->view() == std::string_view("h\0\0lo\0\0\0", 8));
    CHECK(io->Stat("a")->size == 8);
    REQUIRE(io->Write("a", Bytes::Copy("X"), 20).ok());  // a hole before it
    CHECK(io->Stat("a")->size == 21);

    CHECK(io->Create("a", true).code() == Code::kExists);
    CHECK(io->Create("a", false).ok());
    CHECK(io->Stat("a")->size == 21);  // a non-exclusive create leaves it alone
    REQUIRE(io->Create("b", true).ok());
    CHECK(io->Stat("b")->size == 0);
    REQUIRE(io->Remove("a").ok());
    CHECK(io->Read("a").status().code() == Code::kNotFound);
    REQUIRE(io->Create("a", true).ok());  // gone means gone
  }

  SECTION("xattrs and omap") {
    REQUIRE(io->WriteFull("x", Bytes::Copy("data")).ok());
    REQUIRE(io->SetXattr("x", "user.a", "1").ok());
    REQUIRE(io->SetXattr("x", "user.b", std::string("bin\0ary", 7)).ok());
    CHECK(*io->GetXattr("x", "user.a") == "1");
    CHECK(*io->GetXattr("x", "user.b") == std::string("bin\0ary", 7));
    CHECK(io->GetXattr("x", "user.none").status().err() == ENODATA);  // as Ceph answers
    auto all = io->GetXattrs("x");
    REQUIRE(all.ok());
    CHECK(all->size() == 2);
    REQUIRE(io->RmXattr("x", "user.a").ok());
    CHECK(io->GetXattr("x", "user.a").status().err() == ENODATA);

    std::map<std::string, std::string> kv;
    for (int i = 0; i < 2500; ++i) kv["k" + std::to_string(10000 + i)] = "v" + std::to_string(i);
    REQUIRE(io->OmapSet("x", kv).ok());
    auto keys = io->OmapGetKeys("x");  // more than one batch
    REQUIRE(keys.ok());
    CHECK(keys->size() == 2500);
    auto vals = io->OmapGetVals("x", "k10099", 10);
    REQUIRE(vals.ok());
    REQUIRE(vals->size() == 10);
    CHECK(vals->begin()->first == "k10100");
    CHECK(vals->begin()->second == "v100");
    auto some = io->OmapGetValsByKeys("x", {"k10001", "k10002", "nope"});
    REQUIRE(some.ok());
    CHECK(*some == std::map<std::string, std::string>{{"k10001", "v1"}, {"k10002", "v2"}});
    REQUIRE(io->OmapRmKeys("x", {"k10001"}).ok());
    REQUIRE(io->OmapRmRange("x", "k10010", "k10020").ok());
    CHECK(io->OmapGetKeys("x")->size() == 2500 - 1 - 10);
    REQUIRE(io->OmapClear("x").ok());
    CHECK(io->OmapGetKeys("x")->empty());
    CHECK(io->Read("x")->view() == "data");  // omap and xattrs leave data alone

    // The CLI's spelling of the same.
    CHECK(c.Cli("rados -p rt setxattr x user.c hi").exit_code == 0);
    CHECK(c.Cli("rados -p rt getxattr x user.c").out == "hi\n");
    CHECK(c.Cli("rados -p rt setomapval x key1 val1").exit_code == 0);
    CHECK(c.Cli("rados -p rt listomapkeys x").out == "key1\n");
    ProcResult v = c.Cli("rados -p rt getomapval x key1");
    CHECK(v.out.find("value (4 bytes) :") == 0);
    CHECK(v.out.find("|val1|") != std::string::npos);
    CHECK(c.Cli("rados -p rt getomapval x nokey").exit_code == ENOENT);
  }

  SECTION("compound operations apply together") {
    rados::ObjectWriteOperation w;
    w.Create(true).WriteFull(Bytes::Copy("body")).SetXattr("user.t", "tag").OmapSet({{"m", "n"}});
    REQUIRE(io->Operate("c", w).ok());
    // An exclusive create of an existing object fails the whole op: the
    // write after it must not happen.
    rados::ObjectWriteOperation again;
    again.Create(true).WriteFull(Bytes::Copy("overwritten"));
    CHECK(io->Operate("c", again).code() == Code::kExists);

    Bytes data;
    rados::ObjectStat st;
    std::string tag;
    std::map<std::string, std::string> omap;
    bool more = true;
    rados::ObjectReadOperation r;
    r.Read(0, 0, &data).Stat(&st).GetXattr("user.t", &tag).OmapGetVals("", 100, &omap, &more);
    REQUIRE(io->Operate("c", r).ok());
    CHECK(data.view() == "body");
    CHECK(st.size == 4);
    CHECK(tag == "tag");
    CHECK(omap == std::map<std::string, std::string>{{"m", "n"}});
    CHECK_FALSE(more);

    // Asynchronous ops from many threads at once.
    std::vector<AioCompletionRef> cs;
    for (int i = 0; i < 64; ++i) {
      cs.push_back(rados::MakeCompletion());
      io->AioWriteFull("aio-" + std::to_string(i), Bytes(Content("aio", 1000 + static_cast<size_t>(i))), cs.back());
    }
    for (auto& cc : cs) {
      cc->Wait();
      CHECK(cc->status().ok());
    }
  }

  SECTION("listing a pool") {
    std::set<std::string> want;
    for (int i = 0; i < 300; ++i) {
      std::string oid = "list-" + std::to_string(i);
      REQUIRE(io->WriteFull(oid, Bytes::Copy(oid)).ok());
      want.insert(oid);
    }
    auto list = io->ListObjects();
    REQUIRE(list.ok());
    std::set<std::string> got;
    for (const auto& e : *list) got.insert(e.oid);
    CHECK(got == want);
    ProcResult ls = c.Cli("rados -p rt ls");
    CHECK(ls.exit_code == 0);
    CHECK(std::count(ls.out.begin(), ls.out.end(), '\n') == 300);
  }

  SECTION("bad CLI arguments fail with one line") {
    CHECK(c.Cli("rados ls").exit_code == EINVAL);              // no pool
    CHECK(c.Cli("rados -p rt put onlyone").exit_code != 0);    // missing FILE
    CHECK(c.Cli("rados -p rt bench 0 write").exit_code == EINVAL);
    CHECK(c.Cli("rados -p rt bench 5 sideways").exit_code == EINVAL);
    CHECK(c.Cli("rados -p rt bench 5 write -b 0").exit_code == EINVAL);
    CHECK(c.Cli("rados -p rt bench 5 seq").exit_code == ENOENT);  // nothing written yet
    CHECK(c.Cli("rados -p rt put x /no/such/file").exit_code == ENOENT);
  }
}

// KNOWN BUG (issue #5 stays open): when two OSDs join back to back, a PG
// sometimes ends up with a primary that believes it is complete while it
// lacks the PG's objects (reads give ENOENT). Failures are reported but do
// not fail the suite until the peering bug is found; see doc/osd.md.
TEST_CASE("librados: a single-monitor cluster commits and serves objects", "[qa][rados]") {
  // A quorum of one commits inside the proposal itself; the monitor must
  // still see its own commits (it once waited for them forever).
  TestCluster c(1);
  StartCluster(c, 3, "solo", 8);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("solo");
  REQUIRE(io.ok());
  for (int i = 0; i < 20; ++i) {
    std::string oid = "solo-" + std::to_string(i);
    REQUIRE(io->WriteFull(oid, Bytes(Content(oid, 1000 + i))).ok());
  }
  for (int i = 0; i < 20; ++i) {
    std::string oid = "solo-" + std::to_string(i);
    auto got = io->Read(oid);
    REQUIRE(got.ok());
    CHECK(Diff(got->view(), Content(oid, 1000 + i)) == "");
  }
  auto r = c.Command("osd pool set", {{"pool", "solo"}, {"var", "min_size"}, {"val", "1"}});
  REQUIRE(r.ok());
  CHECK(r->status().code() == 0);

  // A key made after the OSDs started is good at the OSDs too: they learn
  // it from the monitors' Auth map, not only from their keyring file.
  auto created = c.JsonCommand("auth get-or-create",
                               {{"entity", "client.app"}, {"caps", R"(["mon","allow r","osd","allow rw"])"}});
  REQUIRE(created.is_array());
  std::string keyring = c.dir() + "/app.keyring";
  std::ofstream(keyring) << "[client.app]\n\tkey = " << created[0]["key"].get<std::string>() << "\n";
  Config cfg("client.app");
  REQUIRE(cfg.ApplyFile(c.conf()).ok());
  REQUIRE(cfg.Set("keyring", keyring).ok());
  REQUIRE(cfg.Set("rados_osd_op_timeout", "60").ok());
  rados::Rados app;
  REQUIRE(app.Connect(cfg, 30).ok());
  auto app_io = app.CreateIoCtx("solo");
  REQUIRE(app_io.ok());
  Status put = app_io->WriteFull("by-app", Bytes(Content("by-app", 5000)));
  INFO(put.ToString());
  REQUIRE(put.ok());
  auto back = io->Read("by-app");
  REQUIRE(back.ok());
  CHECK(Diff(back->view(), Content("by-app", 5000)) == "");
}

TEST_CASE("librados: 10000 objects survive two OSDs joining", "[qa][rados][slow]") {
  TestCluster c(3);
  StartCluster(c, 3, "many", 32);
  auto rados = Connect(c);
  auto io = rados->CreateIoCtx("many");
  REQUIRE(io.ok());

  // Mostly small objects (object 0 is empty), one in 500 of 1..4 MiB and
  // five of 16 MiB: about 180 MB in all.
  const int kObjects = 10000;
  auto size_of = [](int i) -> size_t {
    if (i % 2000 == 13) return 16u << 20;
    if (i % 500 == 7) return (1u << 20) + static_cast<size_t>(i) * 157 % (3u << 20);
    return static_cast<size_t>(i * 7919 % 8192);
  };
  auto name_of = [](int i) { return "obj-" + std::to_string(i); };
  const int kWindow = 64;
  std::vector<AioCompletionRef> window;
  for (int i = 0; i < kObjects; ++i) {
    window.push_back(rados::MakeCompletion());
    io->AioWriteFull(name_of(i), Bytes(Content(name_of(i), size_of(i))), window.back());
    if (window.size() == kWindow || i + 1 == kObjects) {
      for (auto& w : window) {
        w->Wait();
        INFO(w->status().ToString());
        REQUIRE(w->status().ok());
      }
      window.clear();
    }
  }

  auto verify_all = [&] {
    int bad = 0;
    std::vector<std::pair<int, std::shared_ptr<Bytes>>> reads;
    std::vector<AioCompletionRef> cs;
    for (int i = 0; i < kObjects; ++i) {
      reads.push_back({i, std::make_shared<Bytes>()});
      cs.push_back(rados::MakeCompletion());
      io->AioRead(name_of(i), 0, 0, reads.back().second.get(), cs.back());
      if (cs.size() == kWindow || i + 1 == kObjects) {
        for (size_t k = 0; k < cs.size(); ++k) {
          cs[k]->Wait();
          int n = reads[k].first;
          std::string d = cs[k]->status().ok() ? Diff(reads[k].second->view(), Content(name_of(n), size_of(n)))
                                               : cs[k]->status().ToString();
          if (!d.empty() && bad++ < 10) WARN(name_of(n) << ": " << d);
        }
        cs.clear();
        reads.clear();
      }
    }
    return bad;
  };
  CHECK(verify_all() == 0);
  auto list = io->ListObjects();
  REQUIRE(list.ok());
  CHECK(list->size() == kObjects);

  // Two more OSDs: CRUSH moves PGs to them, the client follows the new maps.
  uint64_t before = rados->osdmap_epoch();
  REQUIRE(c.AddOsd().ok());
  REQUIRE(c.AddOsd().ok());
  REQUIRE(WaitFor([&] { return OsdsUp(c) == 5; }, std::chrono::seconds(60)));
  REQUIRE(WaitFor([&] { return rados->osdmap_epoch() > before; }, std::chrono::seconds(30)));
  // Read while PGs peer and backfill, then again once every PG is clean
  // with three agreeing copies: a copy recovered from one that lacked the
  // objects would pass the first read only if the old primary answered.
  CHECK(verify_all() == 0);
  list = io->ListObjects();
  REQUIRE(list.ok());
  CHECK(list->size() == kObjects);
  std::string why;
  bool clean = WaitFor([&] { return c.AllPgsCleanWithCopies(3, &why); }, std::chrono::seconds(300));
  INFO(why);
  REQUIRE(clean);
  CHECK(verify_all() == 0);
}
