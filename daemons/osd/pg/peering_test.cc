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

TEST_CASE("peering: a backfill copies only what differs") {
  std::map<ObjectId, EVersion> auth{{{"", "a"}, {2, 5}}, {{"", "b"}, {1, 2}}, {{"", "c"}, {2, 7}}};
  std::map<ObjectId, EVersion> member{{{"", "a"}, {2, 5}}, {{"", "b"}, {1, 1}}, {{"", "z"}, {1, 3}}};
  MissingSet auth_missing{{{"", "a"}, {3, 9}}};
  auto m = BackfillMissing(auth, member, {});
  CHECK(m.size() == 3);
  CHECK(m.at({"", "b"}) == EVersion{1, 2});  // older here
  CHECK(m.at({"", "c"}) == EVersion{2, 7});  // absent here
  CHECK(m.at({"", "z"}).zero());             // absent there: removed
  CHECK_FALSE(m.count({"", "a"}));           // identical: not copied
  // What the authoritative member itself lacks is lacked here too, even if
  // the listed versions agree.
  m = BackfillMissing(auth, member, auth_missing);
  CHECK(m.at({"", "a"}) == EVersion{3, 9});
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
  size_t backfills = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    const int n = 4;
    std::vector<std::vector<proto::PgLogEntryProto>> logs(n);
    std::vector<std::map<ObjectId, EVersion>> stores(n);
    std::map<ObjectId, EVersion> acked;  // what clients were told succeeded
    uint64_t epoch = 1, v = 0;
    std::vector<EVersion> tails(n);
    std::vector<int> acting{0, 1, 2};
    // Half the seeds trim logs to a few entries, so members that sat out an
    // interval fall behind the tail and are backfilled by listing.
    const size_t keep_entries = seed % 2 ? 3 : 1000;
    for (int round = 0; round < 8; ++round) {
      // A new interval: peer the current acting set and apply the plan.
      std::vector<PeerReport> reports;
      for (int o : acting) reports.push_back(Report(o, logs[o], tails[o]));
      auto plan = PlanPeering(acting, reports);
      REQUIRE(plan.ok());
      const auto auth_store = stores[plan->auth];
      for (int o : acting) {
        MissingSet missing = plan->missing[o];
        if (plan->backfill.count(o)) {
          missing = BackfillMissing(auth_store, stores[o], plan->auth_missing);
          ++backfills;
        }
        for (const auto& [obj, need] : missing) {
          auto it = auth_store.find(obj);
          if (it == auth_store.end()) stores[o].erase(obj);
          else stores[o][obj] = it->second;
        }
        logs[o] = plan->log;
        tails[o] = plan->log_tail;
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
      for (int o : acting)
        while (logs[o].size() > keep_entries) {
          tails[o] = FromProto(logs[o].front().version());
          logs[o].erase(logs[o].begin());
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
  CHECK(backfills > 100);  // the trimmed seeds do exercise backfill
}
