// Object -> PG -> OSDs: known answers, stable_mod splitting, spread, and up
// sets under down OSDs.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "crush/builder.h"
#include "crush/limits.h"
#include "cluster/placement.h"

using namespace nacre;
using namespace nacre::placement;

TEST_CASE("object names hash as MurmurHash3_x86_32 with the CRUSH seed", "[placement]") {
  // Reference values from an independent implementation.
  CHECK(ObjectNameHash("") == 0x4ef1e0bbu);
  CHECK(ObjectNameHash("a") == 0xd0b63853u);
  CHECK(ObjectNameHash("rbd_data.1234") == 0xcf349dcfu);
  CHECK(ObjectNameHash("object-0001") == 0x6de5ae04u);
  CHECK(ObjectNameHash("10000000000.00000000") == 0x64976e99u);
}

TEST_CASE("PG ids print and parse as Ceph's POOL.hexSEED", "[placement]") {
  PgId pg{1, 0xa3};
  CHECK(pg.ToString() == "1.a3");
  CHECK(*PgId::Parse("1.a3") == pg);
  CHECK(*PgId::Parse("12.0") == PgId{12, 0});
  for (const char* bad : {"", "1", "1.", ".3", "x.1", "1.zz", "-1.2", "1.2.3"}) CHECK_FALSE(PgId::Parse(bad).ok());
}

TEST_CASE("stable_mod stays below pg_num and raising pg_num only splits PGs", "[placement]") {
  for (uint32_t b = 1; b <= 70; ++b) {
    for (uint32_t x = 0; x < 5000; ++x) {
      uint32_t h = ObjectNameHash(std::to_string(x));
      uint32_t before = StableMod(h, b), after = StableMod(h, b + 1);
      REQUIRE(before < b);
      // Going from b to b+1 PGs, an object stays or moves to the new PG b.
      REQUIRE((after == before || after == b));
    }
  }
  for (uint32_t x : {0u, 7u, 12345u, 0xffffffffu}) CHECK(StableMod(x, 64) == x % 64);
}

TEST_CASE("objects spread evenly over a pool's PGs", "[placement]") {
  proto::PoolInfo pool;
  pool.set_id(3);
  pool.set_pg_num(64);
  std::map<uint32_t, int> count;
  const int kObjects = 128000;
  for (int i = 0; i < kObjects; ++i) {
    PgId pg = ObjectToPg(pool, "obj." + std::to_string(i));
    REQUIRE(pg.pool == 3);
    ++count[pg.seed];
  }
  REQUIRE(count.size() == 64);
  for (const auto& [seed, n] : count) CHECK(std::abs(n - kObjects / 64) < kObjects / 64 / 10);
}

namespace {

// 3 hosts x 2 OSDs; rule 0 replicated (firstn by host), rule 1 erasure (indep by host).
crush::CrushMap TestCrush() {
  crush::CrushBuilder b;
  b.AddType(0, "osd", "t");
  b.AddType(1, "host", "t");
  b.AddType(10, "root", "t");
  std::vector<std::string> hosts;
  for (int h = 0; h < 3; ++h) {
    std::vector<std::string> items;
    for (int i = 0; i < 2; ++i) {
      int id = 2 * h + i;
      b.AddDevice(id, "osd." + std::to_string(id), "hdd", 0x10000, "t");
      items.push_back("osd." + std::to_string(id));
    }
    hosts.push_back("host" + std::to_string(h));
    b.AddBucket(std::nullopt, hosts.back(), "host", items, "t");
  }
  b.AddBucket(std::nullopt, "default", "root", hosts, "t");
  using S = crush::CrushBuilder::StepSpec;
  b.AddRule(0, "replicated_rule", crush::RuleType::kReplicated,
            {S{crush::StepOp::kTake, 0, "default", "", "t"}, S{crush::StepOp::kChooseLeafFirstn, 0, "host", "", "t"},
             S{crush::StepOp::kEmit, 0, "", "", "t"}},
            "t");
  b.AddRule(1, "ec_rule", crush::RuleType::kErasure,
            {S{crush::StepOp::kTake, 0, "default", "", "t"}, S{crush::StepOp::kChooseLeafIndep, 0, "host", "", "t"},
             S{crush::StepOp::kEmit, 0, "", "", "t"}},
            "t");
  auto m = b.Build();
  REQUIRE(m.ok());
  return std::move(m).value();
}

proto::OSDMapProto TestOsdMap() {
  proto::OSDMapProto m;
  for (int id = 0; id < 6; ++id) {
    auto& o = (*m.mutable_osds())[id];
    o.set_id(id);
    o.set_exists(true);
    o.set_up(true);
    o.set_in(true);
    o.set_weight(0x10000);
  }
  auto& rep = (*m.mutable_pools())[1];
  rep.set_id(1);
  rep.set_size(3);
  rep.set_pg_num(32);
  rep.set_crush_rule(0);
  rep.set_type(proto::POOL_TYPE_REPLICATED);
  auto& ec = (*m.mutable_pools())[2];
  ec.set_id(2);
  ec.set_size(3);
  ec.set_pg_num(32);
  ec.set_crush_rule(1);
  ec.set_type(proto::POOL_TYPE_ERASURE);
  return m;
}

int HostOf(int osd) { return osd / 2; }

}  // namespace

TEST_CASE("PGs map to one OSD per host; down OSDs leave the up set", "[placement]") {
  crush::CrushMap crush = TestCrush();
  proto::OSDMapProto m = TestOsdMap();
  for (uint32_t seed = 0; seed < 32; ++seed) {
    auto r = MapPg(m, crush, {1, seed});
    REQUIRE(r.ok());
    REQUIRE(r->up.size() == 3);
    std::set<int> hosts;
    for (int osd : r->up) hosts.insert(HostOf(osd));
    CHECK(hosts.size() == 3);
    CHECK(r->primary == r->up[0]);
  }
  CHECK(MapPg(m, crush, {9, 0}).status().code() == Code::kNotFound);
  CHECK(MapPg(m, crush, {1, 32}).status().code() == Code::kInvalid);

  // osd.1 goes down (still in): replicated PGs that had it shrink; erasure
  // PGs keep a hole in its position and every other shard where it was.
  std::map<uint32_t, std::vector<int>> ec_before;
  for (uint32_t seed = 0; seed < 32; ++seed) ec_before[seed] = MapPg(m, crush, {2, seed})->up;
  (*m.mutable_osds())[1].set_up(false);
  int shrunk = 0;
  for (uint32_t seed = 0; seed < 32; ++seed) {
    auto rep = MapPg(m, crush, {1, seed});
    for (int osd : rep->up) CHECK(osd != 1);
    shrunk += rep->up.size() == 2;
    auto ec = MapPg(m, crush, {2, seed});
    REQUIRE(ec->up.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      if (ec_before[seed][i] == 1) CHECK(ec->up[i] == crush::kItemNone);
      else CHECK(ec->up[i] == ec_before[seed][i]);
    }
    if (!ec->up.empty() && ec->up[0] == crush::kItemNone) CHECK(ec->primary == ec->up[1]);
  }
  CHECK(shrunk > 0);
}
