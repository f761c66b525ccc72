// Monitor command handlers against in-memory maps: validation and the
// updates they produce, with no daemon around them.
#include <catch2/catch.hpp>

#include "common/keyring.h"
#include "daemons/mon/commands.h"

using namespace nacre;
using namespace nacre::mon;

namespace {

struct Harness {
  ClusterMaps maps;
  QuorumInfo quorum;
  Harness() {
    auto* mm = maps.mutable_proto()->mutable_monmap();
    mm->set_fsid("f00d");
    for (const char* n : {"a", "b", "c"}) {
      auto* m = mm->add_mons();
      m->set_name(n);
      m->set_rank(mm->mons_size() - 1);
    }
    quorum = {"a", 0, "a", {"a", "b", "c"}, 2, 1, 1, 1000};
  }
  // Runs a command; applies its update as a commit would.
  CommandOutcome Run(const std::string& prefix, std::map<std::string, std::string> args = {}) {
    proto::CommandRequest r;
    r.set_prefix(prefix);
    for (auto& [k, v] : args) (*r.mutable_args())[k] = v;
    CommandContext ctx{maps, quorum, 12345};
    CommandOutcome o = HandleCommand(r, ctx);
    if (o.status.ok() && o.HasUpdate()) {
      Status s = maps.Apply(o.update);
      REQUIRE(s.ok());
    }
    return o;
  }
};

}  // namespace

TEST_CASE("pool create, get, set, ls and rm", "[mon][commands]") {
  Harness h;
  auto o = h.Run("osd pool create", {{"pool", "data"}, {"pg_num", "64"}});
  REQUIRE(o.status.ok());
  CHECK(o.HasUpdate());
  const auto* p = h.maps.PoolByName("data");
  REQUIRE(p);
  CHECK(p->pg_num() == 64);
  CHECK(p->size() == 3);
  CHECK(p->min_size() == 2);
  CHECK(h.maps.osdmap().epoch() == 1);

  // Creating it again succeeds and changes nothing, as in Ceph.
  o = h.Run("osd pool create", {{"pool", "data"}});
  CHECK(o.status.ok());
  CHECK_FALSE(o.HasUpdate());

  CHECK(h.Run("osd pool set", {{"pool", "data"}, {"var", "size"}, {"val", "2"}}).status.ok());
  CHECK(h.maps.PoolByName("data")->size() == 2);
  CHECK(h.maps.PoolByName("data")->min_size() == 2);
  o = h.Run("osd pool get", {{"pool", "data"}, {"var", "size"}});
  CHECK(o.json["size"] == 2);
  o = h.Run("osd pool ls", {{"detail", "true"}});
  CHECK(o.json.size() == 1);
  CHECK(o.text.find("pool 1 'data' replicated size 2 min_size 2") != std::string::npos);

  // Deletion only with the name twice and the confirm flag.
  CHECK(h.Run("osd pool rm", {{"pool", "data"}}).status.code() == Code::kPermission);
  CHECK(h.Run("osd pool rm", {{"pool", "data"}, {"pool2", "data"}}).status.code() == Code::kPermission);
  CHECK(h.Run("osd pool rm", {{"pool", "data"}, {"pool2", "data"}, {"yes_i_really_really_mean_it", "true"}}).status.ok());
  CHECK(h.maps.PoolByName("data") == nullptr);
  // A new pool never reuses an id.
  REQUIRE(h.Run("osd pool create", {{"pool", "data2"}}).status.ok());
  CHECK(h.maps.PoolByName("data2")->id() == 2);
}

TEST_CASE("pool commands reject bad input with a reason", "[mon][commands]") {
  Harness h;
  REQUIRE(h.Run("osd pool create", {{"pool", "rbd"}}).status.ok());
  CHECK(h.Run("osd pool create", {}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd pool create", {{"pool", ".hidden"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd pool create", {{"pool", "a b"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd pool create", {{"pool", "x"}, {"pg_num", "0"}}).status.code() == Code::kRange);
  CHECK(h.Run("osd pool create", {{"pool", "x"}, {"pg_num", "many"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd pool create", {{"pool", "x"}, {"pg_num", "99999999"}}).status.code() == Code::kRange);
  CHECK(h.Run("osd pool create", {{"pool", "x"}, {"pool_type", "mirrored"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd pool create", {{"pool", "x"}, {"pool_type", "erasure"}, {"erasure_code_profile", "nope"}}).status.code() ==
        Code::kNotFound);
  CHECK(h.Run("osd pool get", {{"pool", "nope"}, {"var", "size"}}).status.code() == Code::kNotFound);
  CHECK(h.Run("osd pool get", {{"pool", "rbd"}, {"var", "colour"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd pool set", {{"pool", "rbd"}, {"var", "size"}, {"val", "11"}}).status.code() == Code::kRange);
  CHECK(h.Run("osd pool set", {{"pool", "rbd"}, {"var", "size"}, {"val", "0"}}).status.code() == Code::kRange);
  CHECK(h.Run("osd pool set", {{"pool", "rbd"}, {"var", "min_size"}, {"val", "4"}}).status.code() == Code::kRange);
  CHECK(h.Run("osd pool set", {{"pool", "rbd"}, {"var", "size"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("no such command").status.code() == Code::kInvalid);
  CHECK(h.maps.osdmap().epoch() == 1);  // nothing above changed the map
}

TEST_CASE("erasure-code profiles and erasure pools", "[mon][commands]") {
  Harness h;
  CHECK(h.Run("osd erasure-code-profile set", {{"name", "ec42"}, {"profile", "k=4 m=2"}}).status.ok());
  CHECK(h.Run("osd erasure-code-profile set", {{"name", "bad"}, {"profile", "k=0 m=2"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("osd erasure-code-profile set", {{"name", "bad"}, {"profile", "m=2"}}).status.code() == Code::kInvalid);
  auto o = h.Run("osd erasure-code-profile get", {{"name", "ec42"}});
  CHECK(o.json["k"] == "4");
  CHECK(o.json["plugin"] == "isa");
  REQUIRE(h.Run("osd pool create", {{"pool", "ecpool"}, {"pool_type", "erasure"}, {"erasure_code_profile", "ec42"}}).status.ok());
  CHECK(h.maps.PoolByName("ecpool")->size() == 6);
  CHECK(h.maps.PoolByName("ecpool")->min_size() == 5);
  CHECK(h.Run("osd erasure-code-profile rm", {{"name", "ec42"}}).status.code() == Code::kAgain);
}

TEST_CASE("auth get-or-create, get, ls, rm", "[mon][commands]") {
  Harness h;
  auto o = h.Run("auth get-or-create", {{"entity", "client.foo"}, {"caps", R"(["mon","allow r","osd","allow rw pool=data"])"}});
  REQUIRE(o.status.ok());
  std::string key = o.json[0]["key"];
  CHECK(Base64Decode(key)->size() == kKeyBytes);
  CHECK(o.text.find("[client.foo]\n\tkey = " + key) == 0);
  // Same caps: the same key comes back; different caps: refused.
  o = h.Run("auth get-or-create", {{"entity", "client.foo"}, {"caps", R"(["mon","allow r"])"}});
  CHECK(o.json[0]["key"] == key);
  CHECK(h.Run("auth get-or-create", {{"entity", "client.foo"}, {"caps", R"(["mon","allow *"])"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("auth get-or-create", {{"entity", "foo"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("auth get-or-create", {{"entity", "client.x"}, {"caps", R"(["mon"])"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("auth get-or-create", {{"entity", "client.x"}, {"caps", R"(["disk","allow r"])"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("auth get", {{"entity", "client.foo"}}).json[0]["caps"]["osd"] == "allow rw pool=data");
  CHECK(h.Run("auth get", {{"entity", "client.bar"}}).status.code() == Code::kNotFound);
  CHECK(h.Run("auth ls").json["auth_dump"].size() == 1);
  CHECK(h.Run("auth rm", {{"entity", "client.foo"}}).status.ok());
  CHECK(h.Run("auth get", {{"entity", "client.foo"}}).status.code() == Code::kNotFound);
}

TEST_CASE("config set, get, rm, dump", "[mon][commands]") {
  Harness h;
  CHECK(h.Run("config set", {{"who", "osd"}, {"name", "ms keepalive interval"}, {"value", "3"}}).status.ok());
  CHECK(h.Run("config set", {{"who", "osd.2"}, {"name", "ms_keepalive_interval"}, {"value", "5"}}).status.ok());
  CHECK(h.Run("config set", {{"who", "osd"}, {"name", "no_such"}, {"value", "1"}}).status.code() == Code::kNotFound);
  CHECK(h.Run("config set", {{"who", "osd"}, {"name", "public_port"}, {"value", "x"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("config set", {{"who", "disk.1"}, {"name", "public_port"}, {"value", "1"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("config get", {{"who", "osd.1"}, {"name", "ms_keepalive_interval"}}).json == "3");
  CHECK(h.Run("config get", {{"who", "osd.2"}, {"name", "ms_keepalive_interval"}}).json == "5");
  CHECK(h.Run("config dump").json.size() == 2);
  CHECK(h.Run("config rm", {{"who", "osd.2"}, {"name", "ms_keepalive_interval"}}).status.ok());
  CHECK(h.Run("config get", {{"who", "osd.2"}, {"name", "ms_keepalive_interval"}}).json == "3");
}

TEST_CASE("osd marks and health checks", "[mon][commands]") {
  Harness h;
  proto::MonUpdate u;
  u.mutable_osdmap()->set_epoch(1);
  for (int i = 0; i < 3; ++i) {
    proto::OsdInfo o;
    o.set_id(i);
    o.set_exists(true);
    o.set_up(true);
    o.set_in(true);
    o.set_weight(0x10000);
    *u.mutable_osdmap()->add_ops()->mutable_osd_upsert() = o;
  }
  REQUIRE(h.maps.Apply(u).ok());
  CHECK(h.Run("health").text == "HEALTH_OK\n");
  CHECK(h.Run("osd down", {{"ids", "1"}}).status.ok());
  CHECK_FALSE(h.maps.Osd(1)->up());
  CHECK(h.Run("health").text.find("HEALTH_WARN 1 osds down") == 0);
  CHECK(h.Run("osd out", {{"ids", "osd.1 2"}}).status.ok());
  CHECK_FALSE(h.maps.Osd(2)->in());
  CHECK(h.Run("health").text == "HEALTH_OK\n");  // down but out: not a warning
  CHECK(h.Run("osd out", {{"ids", "7"}}).status.code() == Code::kNotFound);
  CHECK(h.Run("osd in", {{"ids", "x"}}).status.code() == Code::kInvalid);
  h.quorum.quorum = {"a", "b"};
  auto o = h.Run("health", {{"detail", "true"}});
  CHECK(o.json["checks"].contains("MON_DOWN"));
  CHECK(o.text.find("mon.c is down") != std::string::npos);
}


TEST_CASE("fs new, ls, dump, status, rm", "[mon][commands][fs]") {
  Harness h;
  REQUIRE(h.Run("osd pool create", {{"pool", "meta"}}).status.ok());
  REQUIRE(h.Run("osd pool create", {{"pool", "data"}}).status.ok());
  CHECK(h.Run("fs new", {{"fs_name", "cephfs"}, {"metadata", "meta"}, {"data", "nope"}}).status.code() == Code::kNotFound);
  CHECK(h.Run("fs new", {{"fs_name", "cephfs"}, {"metadata", "meta"}, {"data", "meta"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("fs new", {{"fs_name", "bad name"}, {"metadata", "meta"}, {"data", "data"}}).status.code() == Code::kInvalid);
  auto o = h.Run("fs new", {{"fs_name", "cephfs"}, {"metadata", "meta"}, {"data", "data"}});
  REQUIRE(o.status.ok());
  CHECK(h.maps.fsmap().filesystems_size() == 1);
  CHECK(h.maps.PoolByName("meta")->application() == "cephfs");
  // Again with the same pools: success, no change; other pools: refused.
  o = h.Run("fs new", {{"fs_name", "cephfs"}, {"metadata", "meta"}, {"data", "data"}});
  CHECK(o.status.ok());
  CHECK_FALSE(o.HasUpdate());
  REQUIRE(h.Run("osd pool create", {{"pool", "d2"}}).status.ok());
  CHECK(h.Run("fs new", {{"fs_name", "cephfs"}, {"metadata", "meta"}, {"data", "d2"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("fs new", {{"fs_name", "second"}, {"metadata", "d2"}, {"data", "data"}}).status.code() == Code::kInvalid);
  CHECK(h.Run("fs ls").text == "name: cephfs, metadata pool: meta, data pools: [data ]\n");
  CHECK(h.Run("fs dump").json["filesystems"][0]["id"] == 1);
  CHECK(h.Run("fs status").json["filesystems"][0]["active_ranks"] == 0);
  CHECK(h.Run("health").text.find("HEALTH_ERR 1 filesystem is offline") == 0);
  CHECK(h.Run("fs rm", {{"fs_name", "cephfs"}}).status.code() == Code::kPermission);
  CHECK(h.Run("fs rm", {{"fs_name", "cephfs"}, {"yes_i_really_mean_it", "true"}}).status.ok());
  CHECK(h.maps.fsmap().filesystems_size() == 0);
  CHECK(h.Run("fs ls").text == "No filesystems enabled\n");
}
