// OsdMonitor: boot, beacons, failure reports and auto-out, on in-memory maps.
#include <catch2/catch.hpp>

#include "crush/crush_map.h"
#include "daemons/mon/mkfs.h"
#include "daemons/mon/osd_monitor.h"

using namespace nacre;
using namespace nacre::mon;

namespace {

ClusterMaps NewMaps() {
  ClusterMaps m;
  m.mutable_proto()->mutable_osdmap()->set_epoch(1);
  m.mutable_proto()->mutable_osdmap()->set_crush(InitialCrushMap());
  return m;
}

int32_t Boot(OsdMonitor& om, ClusterMaps& maps, const std::string& uuid, const std::string& host, int64_t now) {
  proto::OsdBoot b;
  b.set_uuid(uuid);
  b.set_want_id(-1);
  b.set_host(host);
  b.mutable_addr()->set_host("127.0.0.1");
  b.mutable_addr()->set_port(7000);
  int32_t id = -1;
  auto u = om.HandleBoot(b, maps, now, &id);
  REQUIRE(u.ok());
  REQUIRE(maps.Apply(*u).ok());
  return id;
}

}  // namespace

TEST_CASE("booting OSDs get ids, CRUSH places them under their hosts", "[mon][osd]") {
  OsdMonitor om({30000, 600000, 2});
  ClusterMaps maps = NewMaps();
  CHECK(Boot(om, maps, "u0", "host-a", 0) == 0);
  CHECK(Boot(om, maps, "u1", "host-a", 0) == 1);
  CHECK(Boot(om, maps, "u2", "host-b", 0) == 2);
  CHECK(Boot(om, maps, "u1", "host-a", 0) == 1);  // a known uuid keeps its id
  CHECK(maps.osdmap().osds_size() == 3);
  CHECK(maps.Osd(2)->up());
  CHECK(maps.Osd(2)->in());
  auto crush = crush::CrushMap::DecodeFromString(maps.osdmap().crush());
  REQUIRE(crush.ok());
  auto host_a = crush->ItemByName("host-a");
  REQUIRE(host_a.ok());
  CHECK(crush->ParentOf(0) == *host_a);
  CHECK(crush->ParentOf(1) == *host_a);
  CHECK(crush->ParentOf(*host_a) == *crush->ItemByName("default"));
  // Three hosts would be needed for three copies; two hosts give two.
  std::vector<int> out;
  REQUIRE(crush->DoRule(0, 12345, 3, crush->AllIn(), &out).ok());
  CHECK(out.size() == 2);

  proto::OsdBoot bad;
  int32_t id;
  CHECK(om.HandleBoot(bad, maps, 0, &id).status().code() == Code::kInvalid);
  bad.set_uuid("u9");
  bad.set_host("h");
  bad.set_want_id(1);  // taken by u1
  CHECK(om.HandleBoot(bad, maps, 0, &id).status().code() == Code::kExists);
}

TEST_CASE("failure reports from enough peers mark an OSD down", "[mon][osd]") {
  OsdMonitor om({30000, 600000, 2});
  ClusterMaps maps = NewMaps();
  for (int i = 0; i < 3; ++i) Boot(om, maps, "u" + std::to_string(i), "h" + std::to_string(i), 0);
  proto::OsdFailureReport r;
  r.set_reporter(0);
  r.set_target(2);
  CHECK_FALSE(om.HandleFailure(r, maps, 1000));
  CHECK_FALSE(om.HandleFailure(r, maps, 1001));  // the same reporter twice is one
  r.set_reporter(2);
  r.set_target(2);
  CHECK_FALSE(om.HandleFailure(r, maps, 1002));  // nobody reports itself
  r.set_reporter(1);
  auto u = om.HandleFailure(r, maps, 1003);
  REQUIRE(u);
  REQUIRE(maps.Apply(*u).ok());
  CHECK_FALSE(maps.Osd(2)->up());
  CHECK(maps.Osd(2)->in());
  // A report withdrawn before the quorum of reporters is reached counts for nothing.
  r.set_target(1);
  r.set_reporter(0);
  CHECK_FALSE(om.HandleFailure(r, maps, 2000));
  r.set_still_alive(true);
  CHECK_FALSE(om.HandleFailure(r, maps, 2001));
  r.set_still_alive(false);
  r.set_reporter(2);
  CHECK_FALSE(om.HandleFailure(r, maps, 2002));  // a down OSD's report does not count
}

TEST_CASE("silent OSDs go down, long-down OSDs go out", "[mon][osd]") {
  OsdMonitor om({30000, 600000, 2});
  ClusterMaps maps = NewMaps();
  om.Reset(0);
  for (int i = 0; i < 2; ++i) Boot(om, maps, "u" + std::to_string(i), "h" + std::to_string(i), 0);
  proto::OsdBeacon b;
  b.set_id(0);
  om.HandleBeacon(b, 25000);
  CHECK_FALSE(om.Tick(maps, 29000));
  auto u = om.Tick(maps, 31000);  // osd.1 silent since 0
  REQUIRE(u);
  REQUIRE(maps.Apply(*u).ok());
  CHECK(maps.Osd(0)->up());
  CHECK_FALSE(maps.Osd(1)->up());
  om.HandleBeacon(b, 599000);
  CHECK_FALSE(om.Tick(maps, 600000));
  om.HandleBeacon(b, 631000);
  u = om.Tick(maps, 31000 + 600001);
  REQUIRE(u);
  REQUIRE(maps.Apply(*u).ok());
  CHECK_FALSE(maps.Osd(1)->in());
  CHECK(maps.Osd(1)->weight() == 0);
}
