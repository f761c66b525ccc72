// Real nacre-osd processes with the monitors: boot with ids from the
// monitors and CRUSH placement under their hosts, beacons keep them up, a
// killed OSD is marked down, and on restart it gets its id back.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

// osd id -> up, from `osd dump`.
std::map<int, bool> OsdsUp(TestCluster& c) {
  std::map<int, bool> out;
  // Named: ranging over a member of a temporary would dangle.
  nlohmann::json dump = c.JsonCommand("osd dump");
  if (dump.is_object())
    for (const auto& o : dump["osds"]) out[o["osd"].get<int>()] = o["up"] == 1;
  return out;
}

}  // namespace

TEST_CASE("OSD processes boot, stay up on beacons, go down when killed and come back with their id", "[qa][osd]") {
  TestCluster c(3);
  REQUIRE(c.Create("mon osd report timeout = 3\nosd beacon interval = 0.5\n").ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  std::map<int, bool> all_up = {{0, true}, {1, true}, {2, true}};
  bool booted = WaitFor([&] { return OsdsUp(c) == all_up; }, std::chrono::seconds(60));
  INFO(c.Cli("osd dump").out);
  REQUIRE(booted);

  ProcResult tree = c.Cli("osd tree");
  INFO(tree.out);
  for (int i = 0; i < 3; ++i) CHECK(tree.out.find("host host-" + std::to_string(i)) != std::string::npos);
  CHECK(c.Cli("-s").out.find("3 osds: 3 up, 3 in") != std::string::npos);

  // Beacons keep them up past the report timeout.
  auto later = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < later) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(OsdsUp(c) == all_up);

  // Which id did OSD process 1 get? Its data directory says.
  std::ifstream whoami(c.dir() + "/osd-1/whoami");
  int id = -1;
  whoami >> id;
  REQUIRE(id >= 0);
  c.KillOsd(1);
  CHECK(WaitFor([&] { auto up = OsdsUp(c); return up.count(id) && !up[id]; }, std::chrono::seconds(30)));
  REQUIRE(c.StartOsd(1).ok());
  CHECK(WaitFor([&] { return OsdsUp(c) == all_up; }, std::chrono::seconds(30)));
  CHECK(OsdsUp(c).size() == 3);  // it came back as itself, not as a fourth OSD

  // Marked down by hand while alive, an OSD boots again by itself: it is up
  // again from a later epoch than before.
  auto up_from = [&] {
    nlohmann::json dump = c.JsonCommand("osd dump");
    if (!dump.is_object()) return uint64_t{0};
    for (const auto& o : dump["osds"])
      if (o["osd"] == id && o["up"] == 1) return o["up_from"].get<uint64_t>();
    return uint64_t{0};
  };
  uint64_t before = up_from();
  REQUIRE(before > 0);
  REQUIRE(c.Cli("osd down " + std::to_string(id)).exit_code == 0);
  CHECK(WaitFor([&] { return up_from() > before; }, std::chrono::seconds(30)));
  CHECK(WaitFor([&] { return OsdsUp(c) == all_up; }, std::chrono::seconds(30)));
}
