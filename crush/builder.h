// CrushBuilder: assembles a CrushMap from parts that refer to each other by
// name, the way people write maps (the text and JSON parsers, tests, tools).
//
// Parts may come in any order; Build() resolves names, assigns the ids left
// out (buckets count down from the lowest free negative id, rules up from
// the lowest free id, both in declaration order so the result is
// reproducible), and validates. Each part carries a `where` ("line 12",
// "buckets[3]") that prefixes any error about it, so a mistake is reported
// at its source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crush/crush_map.h"

namespace nacre::crush {

class CrushBuilder {
 public:
  struct StepSpec {
    StepOp op = StepOp::kEmit;
    int32_t num = 0;           // choose count, or tries for set_*
    std::string name;          // take: bucket name; choose: type name
    std::string device_class;  // take only
    std::string where;
  };

  void SetChooseTotalTries(int64_t tries, std::string where);
  void AddType(int64_t id, std::string name, std::string where);
  void AddDevice(int64_t id, std::string name, std::string device_class, uint32_t weight, std::string where);
  // id nullopt: assigned by Build().
  void AddBucket(std::optional<int64_t> id, std::string name, std::string type, std::vector<std::string> items,
                 std::string where);
  void AddRule(std::optional<int64_t> id, std::string name, RuleType type, std::vector<StepSpec> steps,
               std::string where);

  Result<CrushMap> Build() const;

 private:
  struct NamedType {
    int64_t id;
    std::string name, where;
  };
  struct NamedDevice {
    int64_t id;
    std::string name, device_class;
    uint32_t weight;
    std::string where;
  };
  struct NamedBucket {
    std::optional<int64_t> id;
    std::string name, type;
    std::vector<std::string> items;
    std::string where;
  };
  struct NamedRule {
    std::optional<int64_t> id;
    std::string name;
    RuleType type;
    std::vector<StepSpec> steps;
    std::string where;
  };

  std::optional<std::pair<int64_t, std::string>> choose_total_tries_;
  std::vector<NamedType> types_;
  std::vector<NamedDevice> devices_;
  std::vector<NamedBucket> buckets_;
  std::vector<NamedRule> rules_;
};

// Parses a decimal weight ("1", "0.5", "3.63869") into 16.16 fixed point
// with integer arithmetic (round to nearest), so the same text gives the
// same weight on every machine. Rejects signs, exponents and values above
// kMaxDeviceWeight.
Result<uint32_t> ParseWeight(std::string_view text);

}  // namespace nacre::crush
