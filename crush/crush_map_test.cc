// CrushMap validation and the protobuf codec: every malformed map is refused
// with a clear one-line error, never a crash.
#include <catch2/catch.hpp>

#include "crush/crush_test_util.h"
#include "proto/crush.pb.h"

namespace nacre::crush {
namespace {

using testing::MakeCluster;

// A small valid map built directly (ids, not names): root -1 > host -2 > osd 0, 1.
CrushMap Small() {
  CrushMap m;
  m.AddType({0, "osd"});
  m.AddType({1, "host"});
  m.AddType({2, "root"});
  m.AddDevice({0, "osd.0", "hdd", kWeightOne});
  m.AddDevice({1, "osd.1", "ssd", 2 * kWeightOne});
  m.AddBucket({-2, "host0", 1, BucketAlg::kStraw2, {0, 1}});
  m.AddBucket({-1, "default", 2, BucketAlg::kStraw2, {-2}});
  m.AddRule({0, "r", RuleType::kReplicated,
             {{StepOp::kTake, -1, 0, ""}, {StepOp::kChooseLeafFirstn, 0, 1, ""}, {StepOp::kEmit, 0, 0, ""}}});
  return m;
}

// Validates and expects an error whose message contains `text`.
void ExpectError(CrushMap m, const std::string& text) {
  const Status s = m.Validate();
  INFO("status: " << s.ToString());
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find(text) != std::string::npos);
  CHECK(s.message().find('\n') == std::string::npos);
  CHECK_FALSE(m.validated());
}

TEST_CASE("a valid map validates and answers lookups", "[crush][map]") {
  CrushMap m = Small();
  REQUIRE(m.Validate().ok());
  CHECK(m.ItemWeight(-1) == 3 * kWeightOne);
  CHECK(m.ItemWeight(-1, "ssd") == 2 * kWeightOne);
  CHECK(m.ItemWeight(-1, "nvme") == 0);
  CHECK(m.ParentOf(1) == -2);
  CHECK(m.ParentOf(-1) == 0);
  CHECK(m.classes() == std::vector<std::string>{"hdd", "ssd"});
  CHECK(m.ItemName(-2) == "host0");
  CHECK(*m.ItemByName("osd.1") == 1);
  CHECK(m.ItemByName("nope").status().code() == Code::kNotFound);
  CHECK(m.max_devices() == 2);
  CHECK(m.FindRuleByName("r")->id == 0);
  CHECK(m.FindType(1)->name == "host");
  CHECK(FormatWeight(kWeightOne * 3 / 2) == "1.50000");
  CHECK(FormatWeight(0xFFFF) == "0.99998");
  CHECK(FormatWeight(1) == "0.00002");
}

TEST_CASE("Validate rejects malformed maps", "[crush][map]") {
  SECTION("no device type") {
    CrushMap m;
    m.AddType({1, "host"});
    ExpectError(m, "type 0");
  }
  SECTION("cycle") {
    CrushMap m = Small();
    m.AddBucket({-3, "a", 1, BucketAlg::kStraw2, {-4}});
    m.AddBucket({-4, "b", 1, BucketAlg::kStraw2, {-3}});
    ExpectError(m, "cycle");
  }
  SECTION("bucket containing itself") {
    CrushMap m = Small();
    m.AddBucket({-3, "a", 1, BucketAlg::kStraw2, {-3}});
    ExpectError(m, "contains itself");
  }
  SECTION("unknown bucket type") {
    CrushMap m = Small();
    m.AddBucket({-3, "a", 7, BucketAlg::kStraw2, {}});
    ExpectError(m, "unknown type 7");
  }
  SECTION("bucket of the device type") {
    CrushMap m = Small();
    m.AddBucket({-3, "a", 0, BucketAlg::kStraw2, {}});
    ExpectError(m, "type 0 is for devices");
  }
  SECTION("unknown item") {
    CrushMap m = Small();
    m.AddBucket({-3, "a", 1, BucketAlg::kStraw2, {42}});
    ExpectError(m, "unknown item 42");
  }
  SECTION("item in two buckets") {
    CrushMap m = Small();
    m.AddBucket({-3, "a", 1, BucketAlg::kStraw2, {0}});
    ExpectError(m, "'osd.0' is in both");
  }
  SECTION("duplicate ids and names") {
    CrushMap m = Small();
    m.AddDevice({1, "osd.9", "", kWeightOne});
    ExpectError(m, "duplicate device id 1");
    CrushMap n = Small();
    n.AddBucket({-2, "other", 1, BucketAlg::kStraw2, {}});
    ExpectError(n, "duplicate bucket id -2");
    CrushMap o = Small();
    o.AddBucket({-3, "osd.0", 1, BucketAlg::kStraw2, {}});
    ExpectError(o, "duplicate item name 'osd.0'");
    CrushMap p = Small();
    p.AddRule({0, "again", RuleType::kReplicated, {{StepOp::kTake, -1, 0, ""}, {StepOp::kEmit, 0, 0, ""}}});
    ExpectError(p, "duplicate rule id 0");
  }
  SECTION("ids out of range") {
    CrushMap m = Small();
    m.AddDevice({kMaxDevices, "osd.x", "", kWeightOne});
    ExpectError(m, "out of range");
    CrushMap n = Small();
    n.AddBucket({-kMaxBuckets - 1, "far", 1, BucketAlg::kStraw2, {}});
    ExpectError(n, "out of range");
  }
  SECTION("weight out of range") {
    CrushMap m = Small();
    REQUIRE(m.SetDeviceWeight(0, kMaxDeviceWeight + 1).ok());
    ExpectError(m, "weight");
    CHECK(m.SetDeviceWeight(77, 1).code() == Code::kNotFound);
  }
  SECTION("bad names") {
    CrushMap m = Small();
    m.AddDevice({5, "bad name", "", kWeightOne});
    ExpectError(m, "invalid");
    CrushMap n = Small();
    n.AddDevice({5, "osd.5", "s$d", kWeightOne});
    ExpectError(n, "device class name");
  }
  SECTION("too deep") {
    CrushMap m = Small();
    int32_t child = -1;
    for (int i = 0; i < kMaxDepth; ++i) {
      m.AddBucket({-10 - i, "level" + std::to_string(i), 2, BucketAlg::kStraw2, {child}});
      child = -10 - i;
    }
    ExpectError(m, "too deep");
  }
  SECTION("rules") {
    auto with_rule = [](std::vector<Step> steps) {
      CrushMap m = Small();
      m.AddRule({1, "bad", RuleType::kReplicated, std::move(steps)});
      return m;
    };
    ExpectError(with_rule({}), "no steps");
    ExpectError(with_rule({{StepOp::kChooseLeafFirstn, 0, 1, ""}, {StepOp::kEmit, 0, 0, ""}}), "before any take");
    ExpectError(with_rule({{StepOp::kTake, -1, 0, ""}}), "must end with emit");
    ExpectError(with_rule({{StepOp::kTake, -9, 0, ""}, {StepOp::kEmit, 0, 0, ""}}), "unknown bucket -9");
    ExpectError(with_rule({{StepOp::kTake, 0, 0, ""}, {StepOp::kEmit, 0, 0, ""}}), "unknown bucket 0");
    ExpectError(with_rule({{StepOp::kTake, -1, 0, "nvme"}, {StepOp::kEmit, 0, 0, ""}}), "class 'nvme'");
    ExpectError(with_rule({{StepOp::kTake, -1, 0, ""}, {StepOp::kChooseFirstn, 1000000, 1, ""}, {StepOp::kEmit, 0, 0, ""}}),
                "count 1000000 out of range");
    ExpectError(with_rule({{StepOp::kTake, -1, 0, ""}, {StepOp::kChooseFirstn, 1, 9, ""}, {StepOp::kEmit, 0, 0, ""}}),
                "unknown type 9");
    ExpectError(with_rule({{StepOp::kSetChooseTries, -1, 0, ""}, {StepOp::kTake, -1, 0, ""}, {StepOp::kEmit, 0, 0, ""}}),
                "tries -1 out of range");
    std::vector<Step> many(kMaxRuleSteps + 1, Step{StepOp::kEmit, 0, 0, ""});
    ExpectError(with_rule(many), "steps (max");
  }
  SECTION("tunables") {
    CrushMap m = Small();
    m.set_tunables({0});
    ExpectError(m, "choose_total_tries");
  }
}

TEST_CASE("encode and decode round trip", "[crush][codec]") {
  CrushMap m = Small();
  REQUIRE(m.Validate().ok());
  proto::CrushMapProto p;
  m.Encode(&p);
  CHECK(p.devices_size() == 2);
  CHECK(p.buckets(0).alg() == proto::CRUSH_BUCKET_ALG_STRAW2);
  Result<CrushMap> d = CrushMap::Decode(p);
  REQUIRE(d.ok());
  CHECK(d->EncodeToString() == m.EncodeToString());
  // A zero (unset) choose_total_tries decodes as the default.
  p.mutable_tunables()->set_choose_total_tries(0);
  CHECK(CrushMap::Decode(p)->tunables().choose_total_tries == kDefaultChooseTotalTries);
}

TEST_CASE("Decode rejects malformed encodings", "[crush][codec]") {
  CrushMap m = Small();
  REQUIRE(m.Validate().ok());
  proto::CrushMapProto good;
  m.Encode(&good);
  auto expect = [](const proto::CrushMapProto& p, Code code, const std::string& text) {
    Result<CrushMap> r = CrushMap::Decode(p);
    INFO(r.status().ToString());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == code);
    CHECK(r.status().message().find(text) != std::string::npos);
  };
  proto::CrushMapProto p = good;
  p.mutable_buckets(0)->set_alg(proto::CRUSH_BUCKET_ALG_UNSPECIFIED);
  expect(p, Code::kInvalid, "algorithm");
  p = good;
  p.mutable_rules(0)->set_type(proto::CRUSH_RULE_TYPE_UNSPECIFIED);
  expect(p, Code::kInvalid, "unknown type");
  p = good;
  p.mutable_rules(0)->mutable_steps(0)->set_op(static_cast<proto::CrushStepOp>(99));
  expect(p, Code::kInvalid, "unknown rule step op 99");
  p = good;
  p.mutable_buckets(1)->add_items(-1);  // root inside itself
  expect(p, Code::kInvalid, "contains itself");
  p = good;
  for (int i = 0; i < kMaxRuleSteps; ++i) p.mutable_rules(0)->add_steps()->set_op(proto::CRUSH_STEP_EMIT);
  expect(p, Code::kTooBig, "steps");

  Result<CrushMap> garbage = CrushMap::DecodeFromString(std::string("\xff\xff\xff\xff", 4));
  CHECK(garbage.status().code() == Code::kCorruption);
  CHECK(CrushMap::DecodeFromString(std::string(kMaxEncodedBytes + 1, '\0')).status().code() == Code::kTooBig);
}

TEST_CASE("a big map validates and maps", "[crush][map]") {
  testing::ClusterSpec spec;
  spec.hosts = 100;
  spec.osds_per_host = 10;
  const CrushMap m = MakeCluster(spec);
  std::vector<int> out;
  REQUIRE(m.DoRule(testing::kReplicatedRule, 7, 3, m.AllIn(), &out).ok());
  CHECK(out.size() == 3);
}

}  // namespace
}  // namespace nacre::crush
