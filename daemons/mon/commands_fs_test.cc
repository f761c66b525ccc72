// Filesystem commands against in-memory maps: volumes, fail, set, status,
// `mds stat`, the `mds:` line of `status`, and the MDS health checks.
#include <catch2/catch.hpp>

#include "daemons/mon/commands.h"

using namespace nacre;
using namespace nacre::mon;

namespace {

struct Harness {
  ClusterMaps maps;
  QuorumInfo quorum;
  MdsStatsMap stats;
  int64_t now = 100000;
  Harness() {
    auto* mm = maps.mutable_proto()->mutable_monmap();
    mm->set_fsid("f00d");
    auto* m = mm->add_mons();
    m->set_name("a");
    m->set_rank(0);
    maps.mutable_proto()->mutable_fsmap()->set_epoch(1);
    quorum = {"a", 0, "a", {"a"}, 2, 1, 1, 1000};
  }
  CommandOutcome Run(const std::string& prefix, std::map<std::string, std::string> args = {}) {
    proto::CommandRequest r;
    r.set_prefix(prefix);
    for (auto& [k, v] : args) (*r.mutable_args())[k] = v;
    CommandContext ctx{maps, quorum, now, nullptr, &stats, 15000};
    CommandOutcome o = HandleCommand(r, ctx);
    if (o.status.ok() && o.HasUpdate()) REQUIRE(maps.Apply(o.update).ok());
    return o;
  }
  // Puts an MDS in the map as the MdsMonitor would.
  void Mds(const std::string& name, int32_t fs_id, int32_t rank, const std::string& state) {
    proto::MdsInfo m;
    m.set_name(name);
    m.set_fs_id(fs_id);
    m.set_rank(rank);
    m.set_state(state);
    m.set_gid(maps.fsmap().gid_max() + 1);
    proto::MonUpdate u;
    *u.add_fsmap()->mutable_mds_upsert() = m;
    // A held rank exists from then on (in `in`), as AssignRanks records.
    auto fs = maps.fsmap().filesystems().find(fs_id);
    if (rank >= 0 && fs != maps.fsmap().filesystems().end() &&
        std::find(fs->second.in().begin(), fs->second.in().end(), rank) == fs->second.in().end()) {
      proto::FilesystemInfo f = fs->second;
      f.add_in(rank);
      *u.add_fsmap()->mutable_fs_upsert() = f;
    }
    REQUIRE(maps.Apply(u).ok());
  }
  const proto::MdsInfo& Info(const std::string& name) { return maps.fsmap().mds().at(name); }
  std::set<std::string> HealthCodes() {
    std::set<std::string> out;
    // Only the filesystem's: the pools alone raise TOO_FEW_OSDS here.
    nlohmann::json checks = Run("health").json["checks"];
    for (const auto& [code, v] : checks.items())
      if (code.rfind("MDS_", 0) == 0 || code.rfind("FS_", 0) == 0) out.insert(code);
    return out;
  }
};

}  // namespace

TEST_CASE("fs volume create makes two pools and the filesystem in one update", "[mon][commands][fs]") {
  Harness h;
  h.Mds("a", -1, -1, kMdsStandby);
  auto o = h.Run("fs volume create", {{"name", "vol1"}});
  REQUIRE(o.status.ok());
  CHECK(o.update.osdmap().ops_size() == 2);
  const auto* meta = h.maps.PoolByName("cephfs.vol1.meta");
  const auto* data = h.maps.PoolByName("cephfs.vol1.data");
  REQUIRE(meta);
  REQUIRE(data);
  CHECK(meta->type() == proto::POOL_TYPE_REPLICATED);
  CHECK(meta->application() == "cephfs");
  CHECK(meta->size() == 3);
  CHECK(data->id() == meta->id() + 1);
  CHECK(h.maps.osdmap().epoch() == 1);  // one OSDMap epoch for both pools
  REQUIRE(h.maps.fsmap().filesystems_size() == 1);
  const auto& fs = h.maps.fsmap().filesystems().begin()->second;
  CHECK(fs.name() == "vol1");
  CHECK(fs.metadata_pool() == meta->id());
  CHECK(fs.data_pools(0) == data->id());
  // The standby got rank 0 in the same update.
  CHECK(h.Info("a").rank() == 0);
  CHECK(h.Info("a").state() == kMdsReplay);
  // Idempotent: again changes nothing.
  o = h.Run("fs volume create", {{"name", "vol1"}});
  CHECK(o.status.ok());
  CHECK_FALSE(o.HasUpdate());
  CHECK(h.Run("fs volume create", {{"name", "bad name"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("fs volume create", {}).status.code() == Code::kInvalid);
  o = h.Run("fs volume ls");
  REQUIRE(o.json.size() == 1);
  CHECK(o.json[0]["name"] == "vol1");
}

TEST_CASE("fs volume rm needs the flag, fails the fs and removes its pools", "[mon][commands][fs]") {
  Harness h;
  REQUIRE(h.Run("fs volume create", {{"name", "v"}}).status.ok());
  h.Mds("a", 1, 0, kMdsActive);
  CHECK(h.Run("fs volume rm", {{"name", "v"}}).status.code() == Code::kPermission);
  CHECK(h.Run("fs volume rm", {{"name", "nope"}, {"yes_i_really_mean_it", "true"}}).status.code() == Code::kNotFound);
  auto o = h.Run("fs volume rm", {{"name", "v"}, {"yes_i_really_mean_it", "true"}});
  REQUIRE(o.status.ok());
  CHECK(h.maps.fsmap().filesystems_size() == 0);
  CHECK(h.maps.osdmap().pools_size() == 0);
  CHECK(h.Info("a").rank() == -1);
  CHECK(h.Info("a").state() == kMdsStandby);
}

TEST_CASE("fs fail and fs set joinable", "[mon][commands][fs]") {
  Harness h;
  REQUIRE(h.Run("fs volume create", {{"name", "v"}}).status.ok());
  h.Mds("a", 1, 0, kMdsActive);
  h.Mds("b", -1, -1, kMdsStandby);
  CHECK(h.Run("fs fail", {{"fs_name", "nope"}}).status.code() == Code::kNotFound);
  uint64_t gid = h.Info("a").gid();
  REQUIRE(h.Run("fs fail", {{"fs_name", "v"}}).status.ok());
  CHECK(h.Info("a").gid() > gid);  // a new registration: the old assignment is gone
  const auto& fs = h.maps.fsmap().filesystems().at(1);
  CHECK(fs.not_joinable());
  CHECK(h.Info("a").rank() == -1);
  CHECK(h.Info("a").state() == kMdsStandby);
  CHECK(h.Info("b").rank() == -1);  // not joinable: nobody takes the rank
  auto codes = h.HealthCodes();
  CHECK(codes.count("MDS_ALL_DOWN"));
  CHECK(codes.count("FS_DEGRADED"));  // rank 0 is in `in`, held by nobody
  // Joinable again: the lowest gid standby takes rank 0 at once; that is b
  // now, a having registered anew when it was failed.
  REQUIRE(h.Run("fs set", {{"fs_name", "v"}, {"var", "joinable"}, {"val", "true"}}).status.ok());
  CHECK_FALSE(h.maps.fsmap().filesystems().at(1).not_joinable());
  CHECK(h.Info("b").rank() == 0);
  CHECK(h.Info("b").state() == kMdsReplay);
  CHECK(h.Info("a").rank() == -1);
}

TEST_CASE("fs set validates names and values", "[mon][commands][fs]") {
  Harness h;
  REQUIRE(h.Run("fs volume create", {{"name", "v"}}).status.ok());
  auto set = [&](const std::string& var, const std::string& val) {
    return h.Run("fs set", {{"fs_name", "v"}, {"var", var}, {"val", val}}).status.code();
  };
  CHECK(set("max_mds", "0") == Code::kInvalid);
  CHECK(set("max_mds", "two") == Code::kInvalid);
  CHECK(set("max_mds", "1000") == Code::kInvalid);
  CHECK(set("standby_count_wanted", "-1") == Code::kInvalid);
  CHECK(set("joinable", "maybe") == Code::kInvalid);
  CHECK(set("colour", "blue") == Code::kInvalid);
  CHECK(h.Run("fs set", {{"fs_name", "nope"}, {"var", "max_mds"}, {"val", "2"}}).status.code() == Code::kNotFound);
  h.Mds("a", -1, -1, kMdsStandby);
  h.Mds("b", -1, -1, kMdsStandby);
  CHECK(set("max_mds", "2") == Code::kOk);
  CHECK(h.maps.fsmap().filesystems().at(1).max_mds() == 2);
  CHECK(h.Info("a").rank() == 0);
  CHECK(h.Info("b").rank() == 1);
  CHECK(set("standby_count_wanted", "1") == Code::kOk);
  CHECK(h.maps.fsmap().filesystems().at(1).standby_count_wanted() == 1);
  CHECK(h.HealthCodes().count("MDS_INSUFFICIENT_STANDBY"));
  h.Mds("c", -1, -1, kMdsStandby);
  CHECK_FALSE(h.HealthCodes().count("MDS_INSUFFICIENT_STANDBY"));
}

TEST_CASE("fs status, mds stat and the status mds line", "[mon][commands][fs]") {
  Harness h;
  REQUIRE(h.Run("fs volume create", {{"name", "cephfs"}}).status.ok());
  h.Mds("a", 1, 0, kMdsActive);
  h.Mds("b", -1, -1, kMdsStandby);
  h.stats["a"] = MdsStats{1, kMdsActive, 2, 12.5, 1 << 20, 1 << 30, 0, 42, h.now};
  auto o = h.Run("fs status");
  REQUIRE(o.status.ok());
  INFO(o.text);
  CHECK(o.text.find("cephfs - 2 clients") != std::string::npos);
  CHECK(o.text.find("active") != std::string::npos);
  CHECK(o.text.find("Reqs: 12.5 /s") != std::string::npos);
  CHECK(o.text.find("cephfs.cephfs.meta") != std::string::npos);
  CHECK(o.text.find("STANDBY MDS") != std::string::npos);
  REQUIRE(o.json["filesystems"].size() == 1);
  CHECK(o.json["filesystems"][0]["mdsmap"][0]["name"] == "a");
  CHECK(o.json["filesystems"][0]["mdsmap"][0]["state"] == "active");
  CHECK(o.json["filesystems"][0]["mdsmap"][0]["rate"] == 12.5);
  CHECK(o.json["filesystems"][0]["clients"] == 2);
  CHECK(o.json["filesystems"][0]["pools"].size() == 2);
  CHECK(o.json["standbys"][0]["name"] == "b");
  CHECK(h.Run("fs status", {{"fs_name", "nope"}}).status.code() == Code::kNotFound);
  CHECK(h.Run("fs status", {{"fs_name", "cephfs"}}).status.ok());
  CHECK(MdsStatusSummary(h.maps.fsmap()) == "cephfs:1 {0=a=up:active} 1 up:standby");
  CHECK(h.Run("mds stat").text.find("cephfs:1 {0=a=up:active} 1 up:standby") != std::string::npos);
  CHECK(h.Run("status").text.find("mds: cephfs:1 {0=a=up:active} 1 up:standby") != std::string::npos);
  // Stale statistics show no activity.
  h.now += 60000;
  CHECK(h.Run("fs status").json["filesystems"][0]["clients"] == 0);
}

TEST_CASE("MDS health checks", "[mon][commands][fs]") {
  Harness h;
  REQUIRE(h.Run("fs volume create", {{"name", "cephfs"}}).status.ok());
  // No MDS at all: offline (an error), not degraded (no rank exists yet).
  CHECK(h.Run("health").json["status"] == "HEALTH_ERR");
  CHECK(h.HealthCodes() == std::set<std::string>{"MDS_ALL_DOWN"});
  // Replaying: up, but degraded.
  h.Mds("a", 1, 0, kMdsReplay);
  CHECK(h.HealthCodes() == std::set<std::string>{"FS_DEGRADED"});
  h.Mds("a", 1, 0, kMdsActive);
  CHECK(h.HealthCodes().empty());
  // Slow requests and an oversized cache, from the beacons.
  h.stats["a"] = MdsStats{1, kMdsActive, 1, 0, 400, 100, 3, 0, h.now};
  auto codes = h.HealthCodes();
  CHECK(codes.count("MDS_SLOW_REQUEST"));
  CHECK(codes.count("MDS_CACHE_OVERSIZED"));
  auto detail = h.Run("health", {{"detail", "true"}}).text;
  CHECK(detail.find("mds.a(mds.0): 3 slow requests are blocked") != std::string::npos);
  h.stats["a"] = MdsStats{1, kMdsActive, 1, 0, 150, 100, 0, 0, h.now};
  CHECK(h.HealthCodes().empty());
}
