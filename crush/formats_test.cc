// The text and JSON map formats: what they accept, and a clear one-line
// error (with its line or path) for what they refuse.
#include <catch2/catch.hpp>

#include "crush/builder.h"
#include "crush/formats.h"

namespace nacre::crush {
namespace {

constexpr const char* kText = R"(# a small cluster
tunable choose_total_tries 60
type 0 osd
type 1 host
type 10 root

device 0 osd.0 class hdd weight 1.5
device 1 osd.1 weight 0.25 class ssd
device 2 osd.2

host node0 {
  id -2
  alg straw2
  item osd.0
  item osd.1
}
host node1 { item osd.2 }   # id assigned
root default { id -1 item node0 item node1 }

rule data {
  id 0
  type replicated
  step take default
  step chooseleaf firstn 0 type host
  step emit
}
rule ec {
  type erasure
  step set_chooseleaf_tries 5
  step set_choose_tries 100
  step take default class hdd
  step chooseleaf indep 0 type host
  step emit
}
)";

TEST_CASE("the text format parses", "[crush][formats]") {
  Result<CrushMap> r = ParseCrushText(kText);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  const CrushMap& m = *r;
  CHECK(m.tunables().choose_total_tries == 60);
  CHECK(m.FindDevice(0)->weight == kWeightOne * 3 / 2);
  CHECK(m.FindDevice(1)->device_class == "ssd");
  CHECK(m.FindDevice(1)->weight == kWeightOne / 4);
  CHECK(m.FindDevice(2)->weight == kWeightOne);
  CHECK(m.FindDevice(2)->device_class.empty());
  CHECK(*m.ItemByName("node1") == -3);  // the first free id
  CHECK(m.ItemWeight(-1) == kWeightOne * 11 / 4);
  CHECK(m.FindRuleByName("ec")->id == 1);
  CHECK(m.FindRuleByName("ec")->type == RuleType::kErasure);
  CHECK(m.FindRuleByName("ec")->steps.size() == 5);

  Result<CrushMap> again = ParseCrushText(FormatCrushText(m));
  INFO(FormatCrushText(m));
  REQUIRE(again.ok());
  CHECK(*again->ItemByName("node1") == -3);
  CHECK(again->ItemWeight(-1) == m.ItemWeight(-1));
  CHECK(FormatCrushText(*again) == FormatCrushText(m));
}

// Parses text expected to fail; checks the message names the problem.
void ExpectTextError(const std::string& text, const std::string& want) {
  Result<CrushMap> r = ParseCrushText(text);
  INFO("input: " << text << "\nstatus: " << r.status().ToString());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(want) != std::string::npos);
  CHECK(r.status().message().find('\n') == std::string::npos);
}

const std::string kHead = "type 0 osd\ntype 1 host\ntype 2 root\ndevice 0 osd.0\n";
const std::string kRule = "rule r { step take h step chooseleaf firstn 0 type host step emit }\n";

TEST_CASE("the text parser reports errors with their line", "[crush][formats]") {
  ExpectTextError("", "type 0");
  ExpectTextError(kHead + "host h { item osd.9 }\n", "line 5: bucket 'h' holds unknown item 'osd.9'");
  ExpectTextError(kHead + "rak h { item osd.0 }\n", "line 5: bucket 'h' has unknown type 'rak'");
  ExpectTextError(kHead + "osd h { item osd.0 }\n", "which is the device type");
  ExpectTextError(kHead + "host h { item osd.0 }\nhost h { }\n", "line 6: duplicate item name 'h'");
  ExpectTextError(kHead + "device 0 osd.1\n", "line 5: duplicate device id 0");
  ExpectTextError(kHead + "device 1 osd.1 weight 70000\n", "line 5: weight '70000' out of range");
  ExpectTextError(kHead + "device 1 osd.1 weight -1\n", "not a non-negative decimal");
  ExpectTextError(kHead + "device 1 osd.1 weight 1.0000000001\n", "more than 9 decimals");
  ExpectTextError(kHead + "device 99999999999999999999 osd.1\n", "out of range");
  ExpectTextError(kHead + "host h { item osd.0 weight 1.0 }\n", "item weights are set on devices");
  ExpectTextError(kHead + "host h { alg straw }\n", "unsupported bucket algorithm 'straw'");
  ExpectTextError(kHead + "host h { hash 0 }\n", "line 5: expected id, alg, item or '}'");
  ExpectTextError(kHead + "host h { item osd.0\n", "unexpected end of input");
  ExpectTextError(kHead + "host h item osd.0\n", "expected '{'");
  ExpectTextError(kHead + "host a { item b }\nhost b { item a }\n", "cycle");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { }\n", "rule 'r' has no steps");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take h }\n", "must end with emit");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take nowhere step emit }\n", "unknown bucket 'nowhere'");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take osd.0 step emit }\n", "is a device");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take h step choose firstn 1 type rack step emit }\n",
                  "unknown type 'rack'");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take h step choose firstn 99999 type host step emit }\n",
                  "count 99999 out of range");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take h step choose firstn 99999999999 type host }\n",
                  "out of range");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take h step choose sideways 1 type host }\n",
                  "expected firstn or indep");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { step take h class nvme step emit }\n", "class 'nvme'");
  ExpectTextError(kHead + "host h { item osd.0 }\n" + kRule + kRule, "line 7: duplicate rule name 'r'");
  ExpectTextError(kHead + "host h { item osd.0 }\nrule r { id 0 step take h step emit }\nrule s { id 0 step take h step emit }\n",
                  "line 7: duplicate rule id 0");
  ExpectTextError(kHead + "tunable choose_local_tries 0\n", "unknown tunable");
  ExpectTextError(kHead + "tunable choose_total_tries 0\n", "choose_total_tries 0 out of range");
  ExpectTextError(kHead + "device 1 osd.1 class s\x01sd\n", "unexpected byte 1");
  ExpectTextError(kHead + "host h { id 5 }\n", "bucket id 5 out of range");
  ExpectTextError(kHead + "device 1 1abc\n", "device name '1abc' is invalid");
  ExpectTextError("type 0 osd\ntype 1 rule\n", "line 2: type name 'rule' is reserved");

  std::string deep = kHead + "host l0 { item osd.0 }\n";
  for (int i = 1; i <= kMaxDepth; ++i)
    deep += "root l" + std::to_string(i) + " { item l" + std::to_string(i - 1) + " }\n";
  ExpectTextError(deep, "too deep");

  std::string big(kMaxTextBytes + 1, ' ');
  CHECK(ParseCrushText(big).status().code() == Code::kTooBig);
}

TEST_CASE("ParseWeight is exact decimal to 16.16", "[crush][formats]") {
  CHECK(*ParseWeight("1") == 0x10000);
  CHECK(*ParseWeight("0.5") == 0x8000);
  CHECK(*ParseWeight(".5") == 0x8000);
  CHECK(*ParseWeight("0") == 0);
  CHECK(*ParseWeight("65535") == kMaxDeviceWeight);
  CHECK(*ParseWeight("0.00001") == 1);  // 0.655 rounds up
  CHECK(*ParseWeight("3.63869") == 238465);
  CHECK_FALSE(ParseWeight("65535.1").ok());
  CHECK_FALSE(ParseWeight("").ok());
  CHECK_FALSE(ParseWeight(".").ok());
  CHECK_FALSE(ParseWeight("1e3").ok());
  CHECK_FALSE(ParseWeight("+1").ok());
  // Every 16.16 value survives printing with five decimals.
  for (uint32_t w = 0; w < 0x30000; w += 7) REQUIRE(*ParseWeight(FormatWeight(w)) == w);
}

constexpr const char* kJson = R"({
  "tunables": {"choose_total_tries": 70},
  "types": [{"id": 0, "name": "osd"}, {"id": 1, "name": "host"}, {"id": 2, "name": "root"}],
  "devices": [{"id": 0, "name": "osd.0", "class": "ssd", "weight": 1.5},
              {"id": 1, "name": "osd.1", "weight": "0.25"},
              {"id": 2, "name": "osd.2"}],
  "buckets": [{"name": "h0", "type": "host", "items": ["osd.0", "osd.1"]},
              {"id": -5, "name": "h1", "type": "host", "alg": "straw2", "items": ["osd.2"]},
              {"name": "default", "type": "root", "items": ["h0", "h1"]}],
  "rules": [{"id": 3, "name": "data", "type": "replicated", "steps": [
              {"op": "take", "item": "default"},
              {"op": "chooseleaf_firstn", "num": 0, "type": "host"},
              {"op": "emit"}]},
            {"name": "ec", "type": "erasure", "steps": [
              {"op": "set_chooseleaf_tries", "num": 5},
              {"op": "take", "item": "default", "class": "ssd"},
              {"op": "chooseleaf_indep", "num": 0, "type": "host"},
              {"op": "emit"}]}]
})";

TEST_CASE("the JSON format parses", "[crush][formats]") {
  Result<CrushMap> r = ParseCrushJson(kJson);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->tunables().choose_total_tries == 70);
  CHECK(r->FindDevice(0)->weight == 0x18000);
  CHECK(r->FindDevice(1)->weight == 0x4000);
  CHECK(*r->ItemByName("h0") == -1);
  CHECK(*r->ItemByName("default") == -2);
  CHECK(r->FindRule(3)->name == "data");
  CHECK(r->FindRule(0)->name == "ec");
  std::vector<int> out;
  REQUIRE(r->DoRule(3, 1, 2, r->AllIn(), &out).ok());
  CHECK(out.size() == 2);
}

void ExpectJsonError(const std::string& text, const std::string& want) {
  Result<CrushMap> r = ParseCrushJson(text);
  INFO("input: " << text << "\nstatus: " << r.status().ToString());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find(want) != std::string::npos);
  CHECK(r.status().message().find('\n') == std::string::npos);
}

TEST_CASE("the JSON parser reports errors with their path", "[crush][formats]") {
  const std::string types = R"("types": [{"id": 0, "name": "osd"}, {"id": 1, "name": "host"}])";
  ExpectJsonError("{", "invalid JSON");
  ExpectJsonError("[]", "top level: expected an object");
  ExpectJsonError("{}", "missing 'types'");
  ExpectJsonError("{" + types + R"(, "rulez": []})", "unknown key 'rulez'");
  ExpectJsonError(R"({"types": [{"id": "0", "name": "osd"}]})", "types[0]: 'id' must be an integer");
  ExpectJsonError(R"({"types": [{"id": 18446744073709551615, "name": "osd"}]})", "out of range");
  ExpectJsonError("{" + types + R"(, "devices": [{"id": 0, "name": "osd.0", "weight": -1}]})",
                  "devices[0]: weight out of range");
  ExpectJsonError("{" + types + R"(, "devices": [{"id": 0, "name": "osd.0", "weight": 1e300}]})", "out of range");
  ExpectJsonError("{" + types + R"(, "buckets": [{"name": "h", "type": "host", "items": [1]}]})",
                  "buckets[0]: items must be names");
  ExpectJsonError("{" + types + R"(, "buckets": [{"name": "h", "type": "host", "items": ["x"]}]})",
                  "buckets[0]: bucket 'h' holds unknown item 'x'");
  ExpectJsonError("{" + types + R"(, "buckets": [{"name": "h", "type": "host"}], "rules": [{"name": "r", "steps": [
                    {"op": "take", "item": "h"}, {"op": "explode"}]}]})",
                  "rules[0].steps[1]: unknown op 'explode'");
  ExpectJsonError("{" + types + R"(, "buckets": [{"name": "h", "type": "host"}], "rules": [{"name": "r", "steps": [
                    {"op": "take", "item": "h"}, {"op": "choose_firstn", "num": 100000, "type": "host"}]}]})",
                  "num 100000 out of range");
  ExpectJsonError("{" + types + R"(, "buckets": [{"name": "h", "type": "host"}], "rules": [{"name": "r", "steps": []}]})",
                  "rule 'r' has no steps");
  std::string nested(100000, '[');
  ExpectJsonError(nested, "invalid JSON");
}

}  // namespace
}  // namespace nacre::crush
