// PG reports on the monitor: aggregation into the PG view, the `pg`/`osd df`
// commands and the PG health checks, from synthetic OsdPgStats.
#include <catch2/catch.hpp>

#include "daemons/mon/commands.h"
#include "daemons/mon/pg_stats.h"

using namespace nacre;
using namespace nacre::mon;

namespace {

constexpr int64_t kNow = 1'000'000;

// 3 OSDs up since epoch 2, one pool "rbd" (id 1) of 96 PGs, size 3. PG
// seed s has acting [s%3, (s+1)%3, (s+2)%3], primary s%3.
struct Cluster {
  ClusterMaps maps;
  QuorumInfo quorum{"a", 0, "a", {"a"}, 2, 1, 1, 1000};
  PgStatsStore store{60000};

  Cluster() {
    auto* mm = maps.mutable_proto()->mutable_monmap();
    auto* m = mm->add_mons();
    m->set_name("a");
    auto* om = maps.mutable_proto()->mutable_osdmap();
    om->set_epoch(5);
    for (int i = 0; i < 3; ++i) {
      proto::OsdInfo o;
      o.set_id(i);
      o.set_exists(true);
      o.set_up(true);
      o.set_in(true);
      o.set_weight(0x10000);
      o.set_crush_weight(0x10000);
      o.set_device_class("hdd");
      o.set_up_from(2);
      (*om->mutable_osds())[i] = o;
    }
    proto::PoolInfo p;
    p.set_id(1);
    p.set_name("rbd");
    p.set_size(3);
    p.set_min_size(2);
    p.set_pg_num(96);
    (*om->mutable_pools())[1] = p;
  }

  static std::vector<int32_t> Acting(uint32_t s) {
    return {static_cast<int32_t>(s % 3), static_cast<int32_t>((s + 1) % 3), static_cast<int32_t>((s + 2) % 3)};
  }

  // osd's report: one stat per PG (it holds a copy of every PG), each with
  // 10 objects of 1 MiB; `state_of` overrides the state of given seeds.
  proto::OsdPgStats Report(int osd, std::map<uint32_t, std::string> state_of = {}, uint64_t epoch = 5) {
    proto::OsdPgStats r;
    r.set_osd(osd);
    r.set_epoch(epoch);
    r.set_stamp_ms(kNow);
    r.mutable_osd_stat()->set_kb(10 << 20);  // 10 GiB
    r.mutable_osd_stat()->set_kb_used(1 << 20);
    r.mutable_osd_stat()->set_kb_avail(9 << 20);
    r.mutable_osd_stat()->set_num_pgs(96);
    for (uint32_t s = 0; s < 96; ++s) {
      auto* st = r.add_pgs();
      st->set_pool(1);
      st->set_seed(s);
      st->set_state(state_of.count(s) ? state_of[s] : "active+clean");
      for (int a : Acting(s)) {
        st->add_up(a);
        st->add_acting(a);
      }
      st->set_primary(Acting(s)[0]);
      st->set_num_objects(10);
      st->set_num_bytes(10 << 20);
      st->mutable_last_update()->set_epoch(4);
      st->mutable_last_update()->set_v(10);
      st->set_digest(0xabcdef00 + s);
      st->set_epoch(epoch);
    }
    return r;
  }

  void IngestAll() {
    for (int i = 0; i < 3; ++i) REQUIRE(store.Ingest(Report(i), kNow, maps.osdmap()));
  }

  CommandOutcome Run(const std::string& prefix, std::map<std::string, std::string> args = {}) {
    proto::CommandRequest r;
    r.set_prefix(prefix);
    for (auto& [k, v] : args) (*r.mutable_args())[k] = v;
    return HandleCommand(r, CommandContext{maps, quorum, kNow + 1000, &store});
  }
};

}  // namespace

TEST_CASE("byte and state spelling", "[mon][pg]") {
  CHECK(FormatBytes(0) == "0 B");
  CHECK(FormatBytes(1000) == "1000 B");
  CHECK(FormatBytes(12 * 1024) == "12 KiB");
  CHECK(FormatBytes(1288490189) == "1.2 GiB");
  CHECK(FormatBytes(uint64_t{30} << 30) == "30 GiB");
  CHECK(FormatBytes((uint64_t{297} << 30) + 5) == "297 GiB");
  CHECK(StateHas("active+clean", "clean"));
  CHECK(StateHas("active+undersized+degraded", "undersized"));
  CHECK_FALSE(StateHas("active+clean", "act"));
  CHECK_FALSE(StateHas("unknown", "active"));
}

TEST_CASE("every PG active+clean: pg stat, status and HEALTH_OK", "[mon][pg]") {
  Cluster c;
  c.IngestAll();
  auto o = c.Run("pg stat");
  REQUIRE(o.status.ok());
  CHECK(o.text == "96 pgs: 96 active+clean; 960 MiB data, 3 GiB used, 27 GiB / 30 GiB avail\n");
  CHECK(o.json["pg_summary"]["num_pgs"] == 96);
  CHECK(o.json["pg_summary"]["num_pg_by_state"][0]["name"] == "active+clean");
  CHECK(o.json["pg_summary"]["num_objects"] == 960);

  CHECK(c.Run("health").text == "HEALTH_OK\n");
  o = c.Run("status");
  CHECK(o.text.find("pools:   1 pools, 96 pgs") != std::string::npos);
  CHECK(o.text.find("objects: 960 objects, 960 MiB") != std::string::npos);
  CHECK(o.text.find("usage:   3 GiB used, 27 GiB / 30 GiB avail") != std::string::npos);
  CHECK(o.text.find("pgs:     96 active+clean") != std::string::npos);
  CHECK(o.json["pgmap"]["num_pgs"] == 96);
  CHECK(o.json["pgmap"]["pgs_by_state"][0]["state_name"] == "active+clean");
  CHECK(o.json["pgmap"]["pgs_by_state"][0]["count"] == 96);
  CHECK(o.json["pgmap"]["num_objects"] == 960);
  CHECK(o.json["pgmap"]["bytes_avail"] == uint64_t{27} << 30);
  CHECK(o.json["health"]["status"] == "HEALTH_OK");
}

TEST_CASE("pg dump lists every copy with its digest", "[mon][pg]") {
  Cluster c;
  c.IngestAll();
  auto o = c.Run("pg dump");
  REQUIRE(o.status.ok());
  const auto& pgs = o.json["pg_stats"];
  REQUIRE(pgs.size() == 96);
  CHECK(pgs[10]["pgid"] == "1.a");
  CHECK(pgs[10]["state"] == "active+clean");
  CHECK(pgs[10]["primary"] == 1);
  CHECK(pgs[10]["acting"] == nlohmann::json({1, 2, 0}));
  CHECK(pgs[10]["num_objects"] == 10);
  CHECK(pgs[10]["last_update"] == "4'10");
  REQUIRE(pgs[10]["copies"].size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(pgs[10]["copies"][i]["osd"] == i);
    CHECK(pgs[10]["copies"][i]["num_objects"] == 10);
    CHECK(pgs[10]["copies"][i]["digest"] == "00000000abcdef0a");
  }
  CHECK(o.json["osd_stats"].size() == 3);
  CHECK(o.text.find("1.a ") != std::string::npos);
  CHECK(o.text.find("PG_STAT") == 0);

  // A replica that lost its copy reports no stat for that PG.
  auto r2 = c.Report(2);
  r2.mutable_pgs()->DeleteSubrange(10, 1);
  r2.set_stamp_ms(kNow + 1);
  REQUIRE(c.store.Ingest(r2, kNow, c.maps.osdmap()));
  o = c.Run("pg dump");
  CHECK(o.json["pg_stats"][10]["copies"].size() == 2);
  CHECK(o.json["pg_stats"][11]["copies"].size() == 3);
}

TEST_CASE("a degraded PG raises PG_DEGRADED", "[mon][pg]") {
  Cluster c;
  // PG 1.3's primary is osd.0.
  auto r0 = c.Report(0, {{3, "active+undersized+degraded"}, {6, "active+recovering+degraded"}});
  r0.mutable_pgs(3)->set_num_missing(10);
  REQUIRE(c.store.Ingest(r0, kNow, c.maps.osdmap()));
  REQUIRE(c.store.Ingest(c.Report(1), kNow, c.maps.osdmap()));
  REQUIRE(c.store.Ingest(c.Report(2), kNow, c.maps.osdmap()));
  auto o = c.Run("health", {{"detail", "true"}});
  REQUIRE(o.json["checks"].contains("PG_DEGRADED"));
  CHECK_FALSE(o.json["checks"].contains("PG_AVAILABILITY"));
  CHECK(o.json["status"] == "HEALTH_WARN");
  CHECK(o.json["checks"]["PG_DEGRADED"]["summary"]["message"] ==
        "Degraded data redundancy: 10/2880 objects degraded (0.347%), 2 pgs degraded, 1 pg undersized");
  CHECK(o.text.find("pg 1.3 is active+undersized+degraded, acting [0,1,2]") != std::string::npos);
  o = c.Run("pg stat");
  CHECK(o.text.find("96 pgs: 94 active+clean, 1 active+recovering+degraded, 1 active+undersized+degraded;") == 0);
  o = c.Run("pg ls", {{"states", "degraded"}});
  CHECK(o.json["pg_stats"].size() == 2);
  o = c.Run("pg ls", {{"states", "undersized recovering"}});
  CHECK(o.json["pg_stats"].size() == 2);
  CHECK(c.Run("pg ls", {{"pool", "7"}}).status.code() == Code::kNotFound);
  CHECK(c.Run("pg ls", {{"states", "7 degraded"}}).status.code() == Code::kNotFound);
  CHECK(c.Run("pg ls", {{"states", "1 degraded"}}).json["pg_stats"].size() == 2);
  CHECK(c.Run("pg ls", {{"states", "1"}}).json["pg_stats"].size() == 96);

  // Active but neither degraded nor undersized still is not clean.
  Cluster d;
  REQUIRE(d.store.Ingest(d.Report(0, {{0, "active+remapped+backfilling"}}), kNow, d.maps.osdmap()));
  REQUIRE(d.store.Ingest(d.Report(1), kNow, d.maps.osdmap()));
  REQUIRE(d.store.Ingest(d.Report(2), kNow, d.maps.osdmap()));
  o = d.Run("health");
  CHECK(o.text == "HEALTH_WARN Degraded data redundancy: 1 pg not clean\n");
}

TEST_CASE("a PG nobody reports is unknown and raises PG_AVAILABILITY", "[mon][pg]") {
  Cluster c;
  // osd.2 has not reported: the 32 PGs it leads are unknown.
  REQUIRE(c.store.Ingest(c.Report(0), kNow, c.maps.osdmap()));
  REQUIRE(c.store.Ingest(c.Report(1, {{1, "peering"}}), kNow, c.maps.osdmap()));
  auto o = c.Run("health");
  CHECK(o.text == "HEALTH_WARN Reduced data availability: 33 pgs inactive, 1 pg peering\n");
  o = c.Run("pg dump");
  CHECK(o.json["pg_stats"][2]["state"] == "unknown");
  CHECK(o.json["pg_stats"][2]["primary"] == -1);
  // Its replicas still show as copies.
  CHECK(o.json["pg_stats"][2]["copies"].size() == 2);
  o = c.Run("status");
  CHECK(o.text.find("pgs:     34.375% pgs not active\n             63 active+clean\n             32 unknown\n"
                    "             1 peering\n") != std::string::npos);

  // No report at all and no OSD up: OSD_DOWN explains it; no PG_AVAILABILITY.
  Cluster e;
  for (auto& [id, osd] : *e.maps.mutable_proto()->mutable_osdmap()->mutable_osds()) osd.set_up(false);
  o = e.Run("health");
  CHECK(o.json["checks"].contains("OSD_DOWN"));
  CHECK_FALSE(o.json["checks"].contains("PG_AVAILABILITY"));
  CHECK(e.Run("pg stat").text.find("96 pgs: 96 unknown; 0 B data") == 0);
}

TEST_CASE("reports of down, restarted, unknown or silent OSDs are ignored", "[mon][pg]") {
  Cluster c;
  c.IngestAll();
  // osd.0 goes down: its report no longer counts; the PGs it led are
  // stale (last known state, nobody serving) and unavailable.
  (*c.maps.mutable_proto()->mutable_osdmap()->mutable_osds())[0].set_up(false);
  auto v = c.store.Build(c.maps.osdmap(), kNow);
  CHECK(v.by_state["stale+active+clean"] == 32);
  CHECK(v.osd_stats.count(0) == 0);
  CHECK(v.pgs[1].copies.size() == 2);
  auto h = c.Run("health");
  CHECK(h.text == "HEALTH_WARN 1 osds down; Reduced data availability: 32 pgs inactive, 32 pgs stale\n");
  // It comes back up at epoch 7; its report from epoch 5 is from before.
  (*c.maps.mutable_proto()->mutable_osdmap()->mutable_osds())[0].set_up(true);
  (*c.maps.mutable_proto()->mutable_osdmap()->mutable_osds())[0].set_up_from(7);
  CHECK(c.store.Build(c.maps.osdmap(), kNow).by_state["stale+active+clean"] == 32);
  auto fresh = c.Report(0, {}, 7);
  fresh.set_stamp_ms(kNow + 5);
  REQUIRE(c.store.Ingest(fresh, kNow, c.maps.osdmap()));
  CHECK(c.store.Build(c.maps.osdmap(), kNow).by_state["active+clean"] == 96);
  // An older report (a late relayed copy) does not replace a newer one.
  CHECK_FALSE(c.store.Ingest(c.Report(0, {}, 5), kNow, c.maps.osdmap()));
  // Reports too old stop counting, and are pruned.
  CHECK(c.store.Build(c.maps.osdmap(), kNow + 61000).by_state["unknown"] == 96);
  c.store.Prune(c.maps.osdmap(), kNow + 61000);
  CHECK(c.store.size() == 0);
  // An OSD the map does not know is refused outright.
  CHECK_FALSE(c.store.Ingest(c.Report(9), kNow, c.maps.osdmap()));
  // When two OSDs claim a PG, the newer epoch wins.
  Cluster d;
  d.IngestAll();
  auto r1 = d.Report(1, {{0, "active+undersized+degraded"}}, 6);
  r1.mutable_pgs(0)->set_primary(1);
  REQUIRE(d.store.Ingest(r1, kNow, d.maps.osdmap()));
  auto pg0 = d.store.Build(d.maps.osdmap(), kNow).pgs[0];
  CHECK(pg0.primary == 1);
  CHECK(pg0.state == "active+undersized+degraded");
}

TEST_CASE("osd df", "[mon][pg]") {
  Cluster c;
  c.IngestAll();
  auto o = c.Run("osd df");
  REQUIRE(o.status.ok());
  REQUIRE(o.json["nodes"].size() == 3);
  CHECK(o.json["nodes"][0]["id"] == 0);
  CHECK(o.json["nodes"][0]["kb"] == 10 << 20);
  CHECK(o.json["nodes"][0]["pgs"] == 96);
  CHECK(o.json["nodes"][0]["status"] == "up");
  CHECK(o.json["summary"]["total_kb"] == 30 << 20);
  CHECK(o.json["summary"]["average_utilization"] == Approx(10.0));
  INFO(o.text);
  CHECK(o.text.find("   ID  CLASS   WEIGHT  REWEIGHT    SIZE  RAW USE   AVAIL   %USE  PGS  STATUS\n") == 0);
  CHECK(o.text.find("    0  hdd    1.00000   1.00000  10 GiB    1 GiB   9 GiB  10.00   96  up\n") != std::string::npos);
  CHECK(o.text.find("TOTAL                            30 GiB    3 GiB  27 GiB  10.00\n") != std::string::npos);
}

TEST_CASE("without PG reports at all, health ignores PGs", "[mon][pg]") {
  Cluster c;
  proto::CommandRequest r;
  r.set_prefix("health");
  CHECK(HandleCommand(r, CommandContext{c.maps, c.quorum, kNow}).text == "HEALTH_OK\n");
}
