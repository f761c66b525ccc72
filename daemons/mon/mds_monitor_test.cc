// MdsMonitor on in-memory maps: registration, rank assignment, activation,
// failover after the grace, restarts, not_joinable and max_mds.
#include <catch2/catch.hpp>

#include "daemons/mon/mds_monitor.h"

using namespace nacre;
using namespace nacre::mon;

namespace {

constexpr int64_t kGrace = 15000;

struct Harness {
  ClusterMaps maps;
  MdsMonitor mon{MdsMonitorOptions{kGrace}};
  Harness() {
    maps.mutable_proto()->mutable_fsmap()->set_epoch(1);
    mon.Reset(0);
  }
  void AddFs(int32_t id, const std::string& name, int32_t max_mds = 1) {
    proto::FilesystemInfo fs;
    fs.set_id(id);
    fs.set_name(name);
    fs.set_max_mds(max_mds);
    proto::MonUpdate u;
    *u.add_fsmap()->mutable_fs_upsert() = fs;
    REQUIRE(maps.Apply(u).ok());
  }
  void SetFs(const std::function<void(proto::FilesystemInfo*)>& f, int32_t id = 1) {
    proto::FilesystemInfo fs = maps.fsmap().filesystems().at(id);
    f(&fs);
    proto::MonUpdate u;
    *u.add_fsmap()->mutable_fs_upsert() = fs;
    REQUIRE(maps.Apply(u).ok());
  }
  // Sends a beacon as the MDS would; applies the update. True if one came.
  bool Beacon(const std::string& name, uint64_t inc, int64_t now, const std::string& state = kMdsStandby) {
    proto::MdsBeacon b;
    b.set_name(name);
    b.set_incarnation(inc);
    b.set_state(state);
    b.mutable_addr()->set_host("127.0.0.1");
    b.mutable_addr()->set_port(6800);
    auto it = maps.fsmap().mds().find(name);
    b.set_fs_id(it == maps.fsmap().mds().end() ? -1 : it->second.fs_id());
    b.set_rank(it == maps.fsmap().mds().end() ? -1 : it->second.rank());
    b.set_clients(3);
    auto u = mon.HandleBeacon(b, maps, now);
    if (!u) return false;
    REQUIRE(maps.Apply(*u).ok());
    return true;
  }
  bool Tick(int64_t now) {
    auto u = mon.Tick(maps, now);
    if (!u) return false;
    REQUIRE(maps.Apply(*u).ok());
    return true;
  }
  const proto::MdsInfo* Mds(const std::string& name) const {
    auto it = maps.fsmap().mds().find(name);
    return it == maps.fsmap().mds().end() ? nullptr : &it->second;
  }
  std::string Holder(int32_t fs, int32_t rank) const {
    for (const auto& [n, m] : maps.fsmap().mds())
      if (m.fs_id() == fs && m.rank() == rank) return n;
    return "";
  }
};

}  // namespace

TEST_CASE("an unknown MDS registers as a standby with a new gid", "[mon][mds]") {
  Harness h;
  CHECK(h.Beacon("a", 11, 100));
  REQUIRE(h.Mds("a"));
  CHECK(h.Mds("a")->state() == kMdsStandby);
  CHECK(h.Mds("a")->rank() == -1);
  CHECK(h.Mds("a")->fs_id() == -1);
  CHECK(h.Mds("a")->gid() == 1);
  CHECK(h.Mds("a")->incarnation() == 11);
  CHECK(h.Mds("a")->addr().port() == 6800);
  CHECK(h.maps.fsmap().gid_max() == 1);
  // The same daemon again changes nothing; another one gets the next gid.
  CHECK_FALSE(h.Beacon("a", 11, 200));
  CHECK(h.Beacon("b", 12, 200));
  CHECK(h.Mds("b")->gid() == 2);
  CHECK(h.mon.stats().at("a").clients == 3);
  // Bad names never reach the map.
  CHECK_FALSE(h.Beacon("", 1, 300));
  CHECK_FALSE(h.Beacon("x y", 1, 300));
  CHECK(h.maps.fsmap().mds_size() == 2);
}

TEST_CASE("a standby gets rank 0, replays, then goes active", "[mon][mds]") {
  Harness h;
  h.AddFs(1, "cephfs");
  CHECK(h.Beacon("a", 1, 100));  // registered and assigned in one update
  REQUIRE(h.Mds("a"));
  CHECK(h.Mds("a")->rank() == 0);
  CHECK(h.Mds("a")->fs_id() == 1);
  CHECK(h.Mds("a")->state() == kMdsReplay);
  CHECK(h.maps.fsmap().filesystems().at(1).in_size() == 1);
  CHECK(h.Beacon("b", 2, 100));
  CHECK(h.Mds("b")->rank() == -1);  // rank 0 is held: b stays standby
  // Still replaying: nothing changes.
  CHECK_FALSE(h.Beacon("a", 1, 200, kMdsReplay));
  // An up:active claim from the standby is ignored.
  CHECK_FALSE(h.Beacon("b", 2, 200, kMdsActive));
  CHECK(h.Beacon("a", 1, 300, kMdsActive));
  CHECK(h.Mds("a")->state() == kMdsActive);
  CHECK(h.Mds("b")->state() == kMdsStandby);
}

TEST_CASE("an MDS silent for the grace loses its rank to a standby", "[mon][mds]") {
  Harness h;
  h.AddFs(1, "cephfs");
  h.Beacon("a", 1, 0);
  h.Beacon("a", 1, 10, kMdsActive);
  h.Beacon("b", 2, 10);
  REQUIRE(h.Holder(1, 0) == "a");
  // b keeps beaconing, a goes quiet.
  for (int64_t t = 1000; t <= kGrace; t += 1000) {
    h.Beacon("b", 2, t);
    CHECK_FALSE(h.Tick(t));
  }
  h.Beacon("b", 2, kGrace + 100);
  CHECK(h.Tick(kGrace + 100));
  CHECK(h.Mds("a") == nullptr);
  CHECK(h.Holder(1, 0) == "b");
  CHECK(h.Mds("b")->state() == kMdsReplay);
  // With no standby left, the next failure leaves the rank failed (in `in`,
  // held by nobody) until an MDS appears.
  CHECK(h.Tick(2 * kGrace + 200));
  CHECK(h.Holder(1, 0).empty());
  CHECK(h.maps.fsmap().filesystems().at(1).in_size() == 1);
  CHECK(h.Beacon("c", 3, 2 * kGrace + 300));
  CHECK(h.Holder(1, 0) == "c");
}

TEST_CASE("a new leader gives every MDS a full grace", "[mon][mds]") {
  Harness h;
  h.AddFs(1, "cephfs");
  h.Beacon("a", 1, 0);
  MdsMonitor fresh{MdsMonitorOptions{kGrace}};  // the new leader never saw a beacon
  fresh.Reset(100000);
  CHECK_FALSE(fresh.Tick(h.maps, 100000 + kGrace));
  CHECK(fresh.Tick(h.maps, 100000 + kGrace + 1));
}

TEST_CASE("a restarted MDS (new incarnation) fails its rank and registers again", "[mon][mds]") {
  Harness h;
  h.AddFs(1, "cephfs");
  h.Beacon("a", 1, 0);
  h.Beacon("a", 1, 10, kMdsActive);
  h.Beacon("b", 2, 10);
  uint64_t old_gid = h.Mds("a")->gid();
  // a comes back with a new incarnation: b takes rank 0, a is a standby.
  CHECK(h.Beacon("a", 99, 20));
  CHECK(h.Holder(1, 0) == "b");
  CHECK(h.Mds("a")->rank() == -1);
  CHECK(h.Mds("a")->state() == kMdsStandby);
  CHECK(h.Mds("a")->incarnation() == 99);
  CHECK(h.Mds("a")->gid() > old_gid);
  // Alone, a restarted rank holder takes its own rank back, through replay.
  Harness solo;
  solo.AddFs(1, "cephfs");
  solo.Beacon("a", 1, 0);
  solo.Beacon("a", 1, 10, kMdsActive);
  CHECK(solo.Beacon("a", 2, 20, kMdsActive));
  CHECK(solo.Holder(1, 0) == "a");
  CHECK(solo.Mds("a")->state() == kMdsReplay);
}

TEST_CASE("not joinable filesystems get no MDS; max_mds ranks are all filled", "[mon][mds]") {
  Harness h;
  h.AddFs(1, "cephfs");
  h.SetFs([](proto::FilesystemInfo* fs) { fs->set_not_joinable(true); });
  CHECK(h.Beacon("a", 1, 0));
  CHECK(h.Mds("a")->rank() == -1);
  CHECK_FALSE(h.Tick(100));
  h.SetFs([](proto::FilesystemInfo* fs) {
    fs->set_not_joinable(false);
    fs->set_max_mds(2);
  });
  h.Beacon("b", 2, 100);  // registering b also assigns both ranks
  CHECK(h.Holder(1, 0) == "a");  // lowest gid first
  CHECK(h.Holder(1, 1) == "b");
  CHECK(h.maps.fsmap().filesystems().at(1).in_size() == 2);
  // A third MDS stays standby; a second filesystem takes it.
  h.Beacon("c", 3, 200);
  CHECK(h.Mds("c")->rank() == -1);
  h.AddFs(2, "other");
  CHECK(h.Tick(300));
  CHECK(h.Holder(2, 0) == "c");
}

TEST_CASE("statistics of MDSs gone from the map are forgotten after the grace", "[mon][mds]") {
  Harness h;
  h.Beacon("a", 1, 0);
  proto::FSMapProto empty;
  h.mon.Prune(h.maps.fsmap(), kGrace * 10);
  CHECK(h.mon.stats().count("a") == 1);  // still in the map
  h.mon.Prune(empty, kGrace - 1);
  CHECK(h.mon.stats().count("a") == 1);  // recent
  h.mon.Prune(empty, kGrace + 1);
  CHECK(h.mon.stats().count("a") == 0);
}

TEST_CASE("an MDS holding a rank of a removed filesystem goes back to standby", "[mon][mds]") {
  Harness h;
  h.AddFs(1, "cephfs");
  h.Beacon("a", 1, 0);
  REQUIRE(h.Holder(1, 0) == "a");
  proto::MonUpdate rm;
  rm.add_fsmap()->set_fs_remove(1);
  REQUIRE(h.maps.Apply(rm).ok());
  h.Beacon("a", 1, 100);
  CHECK(h.Tick(200));
  CHECK(h.Mds("a")->rank() == -1);
  CHECK(h.Mds("a")->fs_id() == -1);
  CHECK(h.Mds("a")->state() == kMdsStandby);
  CHECK_FALSE(h.Tick(300));
}
