// Peering decisions: hand-made histories, then a seeded model check that
// replays random write/crash/primary-change histories and verifies that
// carrying out the plan leaves every acting member with the authoritative
// state of every object, and that no acknowledged write is lost.
#include <catch2/catch.hpp>

#include <random>

#include "daemons/osd/pg/peering.h"

using namespace nacre;
using namespace nacre::osd::pg;

namespace {

proto::PgLogEntryProto Entry(uint64_t epoch, uint64_t v, const std::string& obj, bool remove = false) {
  proto::PgLogEntryProto e;
  e.mutable_version()->set_epoch(epoch);
  e.mutable_version()->set_v(v);
  e.set_oid(obj);
  e.set_remove(remove);
  e.set_client("client.t");
  e.set_tid(v);
  return e;
}

PeerReport Report(int osd, std::vector<proto::PgLogEntryProto> log, EVersion tail = {}) {
  PeerReport r;
  r.osd = osd;
  r.log = std::move(log);
  ToProto(tail, r.info.mutable_log_tail());
  ToProto(r.log.empty() ? tail : FromProto(r.log.back().version()), r.info.mutable_last_update());
  return r;
}

}  // namespace

TEST_CASE("peering: identical logs need nothing") {
  auto log = std::vector{Entry(1, 1, "a"), Entry(1, 2, "b")};
  auto plan = PlanPeering({0, 1, 2}, {Report(0, log), Report(1, log), Report(2, log)});
  REQUIRE(plan.ok());
  CHECK(plan->auth == 0);
  for (int o : {0, 1, 2}) CHECK(plan->missing[o].empty());
  CHECK(plan->backfill.empty());
}

TEST_CASE("peering: a member behind lacks the newer objects") {
  auto full = std::vector{Entry(1, 1, "a"), Entry(1, 2, "b"), Entry(1, 3, "c")};
  auto behind = std::vector{Entry(1, 1, "a")};
  auto plan = PlanPeering({0, 1}, {Report(0, behind), Report(1, full)});
  REQUIRE(plan.ok());
  CHECK(plan->auth == 1);
  CHECK(plan->missing[0].size() == 2);
  CHECK(plan->pull_from.at(ObjectId{"", "b"}) == 1);
}

TEST_CASE("peering: divergent writes of a deposed primary are rolled back") {
  auto common = std::vector{Entry(5, 1, "a"), Entry(5, 2, "b")};
  auto old_primary = common;
  old_primary.push_back(Entry(5, 3, "x"));   // never acknowledged
  auto successor = common;
  successor.push_back(Entry(7, 3, "y"));
  auto plan = PlanPeering({0, 1}, {Report(0, old_primary), Report(1, successor)});
  REQUIRE(plan.ok());
  CHECK(plan->auth == 1);
  auto& m = plan->missing[0];
  CHECK(m.count({"", "x"}));  // rolled back: the auth copy (or its absence) wins
  CHECK(m.count({"", "y"}));
  CHECK_FALSE(m.count({"", "a"}));
}

TEST_CASE("peering: a member older than the log tail is backfilled") {
  auto trimmed = std::vector{Entry(3, 10, "a"), Entry(3, 11, "b")};
  auto old = std::vector{Entry(1, 1, "z")};
  auto plan = PlanPeering({0, 1}, {Report(0, trimmed, {3, 9}), Report(1, old)});
  REQUIRE(plan.ok());
  CHECK(plan->backfill.count(1));
  CHECK_FALSE(plan->backfill.count(0));
}

TEST_CASE("peering: an interrupted backfill is not trusted") {
  auto log = std::vector{Entry(1, 1, "a")};
  auto r0 = Report(0, log);
  r0.info.set_backfilling(true);
  auto plan = PlanPeering({0, 1}, {r0, Report(1, log)});
  REQUIRE(plan.ok());
  CHECK(plan->auth == 1);
  CHECK(plan->backfill.count(0));
  // Nobody complete: the PG cannot go active.
  auto r1 = Report(1, log);
  r1.info.set_backfilling(true);
  CHECK_FALSE(PlanPeering({0, 1}, {r0, r1}).ok());
}

TEST_CASE("peering: known-missing objects stay missing and find a source") {
  auto log = std::vector{Entry(1, 1, "a"), Entry(1, 2, "b")};
  auto r0 = Report(0, log);
  r0.missing[{"", "a"}] = {1, 1};
  auto plan = PlanPeering({0, 1, 2}, {r0, Report(1, log), Report(2, log)});
  REQUIRE(plan.ok());
  CHECK(plan->missing[0].count({"", "a"}));
  CHECK(plan->pull_from.count({"", "a"}));
  CHECK(plan->pull_from.at({"", "a"}) != 0);
}

// A model: each OSD's store is object -> version (absent = not present).
// Random histories of primaries writing to subsets of members, with some
// writes reaching only some members (the primary crashed midway).
TEST_CASE("peering: random histories converge on the authoritative state", "[model]") {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    const int n = 4;
    std::vector<std::vector<proto::PgLogEntryProto>> logs(n);
    std::vector<std::map<ObjectId, EVersion>> stores(n);
    std::map<ObjectId, EVersion> acked;  // what clients were told succeeded
    uint64_t epoch = 1, v = 0;
    std::vector<int> acting{0, 1, 2};
    for (int round = 0; round < 6; ++round) {
      // A new interval: peer the current acting set and apply the plan.
      std::vector<PeerReport> reports;
      for (int o : acting) reports.push_back(Report(o, logs[o], {}));
      auto plan = PlanPeering(acting, reports);
      REQUIRE(plan.ok());
      const auto& auth_store = stores[plan->auth];
      for (int o : acting) {
        for (const auto& [obj, need] : plan->missing[o]) {
          auto it = auth_store.find(obj);
          if (it == auth_store.end()) stores[o].erase(obj);
          else stores[o][obj] = it->second;
        }
        logs[o] = plan->log;
      }
      for (int o : acting) REQUIRE(stores[o] == auth_store);
      // Every acknowledged write survives.
      for (const auto& [obj, ver] : acked) {
        auto it = auth_store.find(obj);
        REQUIRE(it != auth_store.end());
        REQUIRE(it->second >= ver);
      }
      ++epoch;
      v = plan->last_update.v;
      // Writes in this interval; the last may reach only some members.
      int writes = rng() % 5;
      for (int w = 0; w < writes; ++w) {
        ObjectId obj{"", std::string(1, static_cast<char>('a' + rng() % 6))};
        EVersion ver{epoch, ++v};
        auto e = Entry(ver.epoch, ver.v, obj.name);
        bool partial = w == writes - 1 && rng() % 2;
        for (size_t i = 0; i < acting.size(); ++i) {
          if (partial && i > 0 && rng() % 2) continue;
          logs[acting[i]].push_back(e);
          stores[acting[i]][obj] = ver;
        }
        if (!partial) acked[obj] = ver;
      }
      // The next acting set keeps at least one member of this one (min_size).
      int keep = acting[rng() % acting.size()];
      std::vector<int> next{keep};
      for (int o = 0; o < n && next.size() < 3; ++o)
        if (o != keep && rng() % 2) next.push_back(o);
      std::shuffle(next.begin(), next.end(), rng);
      acting = next;
    }
  }
}
