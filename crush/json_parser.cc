// ParseCrushJson: reads the JSON description into a CrushBuilder. Every
// field is type-checked before use and unknown keys are refused (a typo
// should not silently drop a rule); nlohmann's exceptions are caught here
// and never leave the module.
#include <cmath>
#include <nlohmann/json.hpp>

#include "crush/builder.h"
#include "crush/formats.h"

namespace nacre::crush {

namespace {

using json = nlohmann::json;

Status CheckKeys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
  if (!obj.is_object()) return Invalid(where + ": expected an object");
  for (const auto& [key, value] : obj.items()) {
    (void)value;
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) return Invalid(where + ": unknown key '" + key.substr(0, 40) + "'");
  }
  return Status::OK();
}

Result<int64_t> Int(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return Invalid(where + ": missing '" + key + "'");
  if (!it->is_number_integer()) return Invalid(where + ": '" + key + "' must be an integer");
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    return OutOfRange(where + ": '" + key + "' out of range");
  return it->get<int64_t>();
}

Result<std::string> Str(const json& obj, const char* key, const std::string& where, bool required = true) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Invalid(where + ": missing '" + key + "'");
    return std::string();
  }
  if (!it->is_string()) return Invalid(where + ": '" + key + "' must be a string");
  return it->get<std::string>();
}

Result<const json*> Array(const json& obj, const char* key, const std::string& where, bool required) {
  static const json kEmpty = json::array();
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return Invalid(where + ": missing '" + key + "'");
    return &kEmpty;
  }
  if (!it->is_array()) return Invalid(where + ": '" + key + "' must be an array");
  return &*it;
}

// A weight is a number (1.5) or a decimal string ("1.5"); numbers go through
// exact IEEE arithmetic (scaling by 2^16 is exact) and one rounding.
Result<uint32_t> Weight(const json& obj, const std::string& where) {
  auto it = obj.find("weight");
  if (it == obj.end()) return kWeightOne;
  if (it->is_string()) {
    Result<uint32_t> w = ParseWeight(it->get<std::string>());
    if (!w.ok()) return w.status().Annotate(where);
    return w;
  }
  if (!it->is_number()) return Invalid(where + ": 'weight' must be a number");
  const double d = it->get<double>();
  if (!std::isfinite(d) || d < 0 || d * 65536.0 > static_cast<double>(kMaxDeviceWeight) + 0.5)
    return OutOfRange(where + ": weight out of range [0, " + FormatWeight(kMaxDeviceWeight) + "]");
  return static_cast<uint32_t>(std::llround(d * 65536.0));
}

Status Step(const json& s, const std::string& where, CrushBuilder::StepSpec* out) {
  NACRE_ASSIGN_OR_RETURN(std::string op, Str(s, "op", where));
  out->where = where;
  if (op == "take") {
    NACRE_RETURN_IF_ERROR(CheckKeys(s, where, {"op", "item", "class"}));
    out->op = StepOp::kTake;
    NACRE_ASSIGN_OR_RETURN(out->name, Str(s, "item", where));
    NACRE_ASSIGN_OR_RETURN(out->device_class, Str(s, "class", where, false));
    return Status::OK();
  }
  if (op == "emit") {
    out->op = StepOp::kEmit;
    return CheckKeys(s, where, {"op"});
  }
  if (op == "set_choose_tries" || op == "set_chooseleaf_tries") {
    NACRE_RETURN_IF_ERROR(CheckKeys(s, where, {"op", "num"}));
    out->op = op == "set_choose_tries" ? StepOp::kSetChooseTries : StepOp::kSetChooseLeafTries;
  } else {
    if (op == "choose_firstn") {
      out->op = StepOp::kChooseFirstn;
    } else if (op == "choose_indep") {
      out->op = StepOp::kChooseIndep;
    } else if (op == "chooseleaf_firstn") {
      out->op = StepOp::kChooseLeafFirstn;
    } else if (op == "chooseleaf_indep") {
      out->op = StepOp::kChooseLeafIndep;
    } else {
      return Invalid(where + ": unknown op '" + op.substr(0, 40) + "'");
    }
    NACRE_RETURN_IF_ERROR(CheckKeys(s, where, {"op", "num", "type"}));
    NACRE_ASSIGN_OR_RETURN(out->name, Str(s, "type", where));
  }
  NACRE_ASSIGN_OR_RETURN(int64_t num, Int(s, "num", where));
  if (num < -kMaxResult || num > static_cast<int64_t>(kMaxTries))
    return OutOfRange(where + ": num " + std::to_string(num) + " out of range");
  out->num = static_cast<int32_t>(num);
  return Status::OK();
}

Result<CrushMap> Parse(const json& j) {
  CrushBuilder b;
  NACRE_RETURN_IF_ERROR(CheckKeys(j, "top level", {"tunables", "types", "devices", "buckets", "rules"}));
  if (auto it = j.find("tunables"); it != j.end()) {
    NACRE_RETURN_IF_ERROR(CheckKeys(*it, "tunables", {"choose_total_tries"}));
    if (it->contains("choose_total_tries")) {
      NACRE_ASSIGN_OR_RETURN(int64_t tries, Int(*it, "choose_total_tries", "tunables"));
      b.SetChooseTotalTries(tries, "tunables");
    }
  }
  NACRE_ASSIGN_OR_RETURN(const json* types, Array(j, "types", "top level", true));
  for (size_t i = 0; i < types->size(); ++i) {
    const std::string where = "types[" + std::to_string(i) + "]";
    const json& t = (*types)[i];
    NACRE_RETURN_IF_ERROR(CheckKeys(t, where, {"id", "name"}));
    NACRE_ASSIGN_OR_RETURN(int64_t id, Int(t, "id", where));
    NACRE_ASSIGN_OR_RETURN(std::string name, Str(t, "name", where));
    b.AddType(id, std::move(name), where);
  }
  NACRE_ASSIGN_OR_RETURN(const json* devices, Array(j, "devices", "top level", false));
  for (size_t i = 0; i < devices->size(); ++i) {
    const std::string where = "devices[" + std::to_string(i) + "]";
    const json& d = (*devices)[i];
    NACRE_RETURN_IF_ERROR(CheckKeys(d, where, {"id", "name", "class", "weight"}));
    NACRE_ASSIGN_OR_RETURN(int64_t id, Int(d, "id", where));
    NACRE_ASSIGN_OR_RETURN(std::string name, Str(d, "name", where));
    NACRE_ASSIGN_OR_RETURN(std::string cls, Str(d, "class", where, false));
    NACRE_ASSIGN_OR_RETURN(uint32_t weight, Weight(d, where));
    b.AddDevice(id, std::move(name), std::move(cls), weight, where);
  }
  NACRE_ASSIGN_OR_RETURN(const json* buckets, Array(j, "buckets", "top level", false));
  for (size_t i = 0; i < buckets->size(); ++i) {
    const std::string where = "buckets[" + std::to_string(i) + "]";
    const json& bk = (*buckets)[i];
    NACRE_RETURN_IF_ERROR(CheckKeys(bk, where, {"id", "name", "type", "alg", "items"}));
    std::optional<int64_t> id;
    if (bk.contains("id")) {
      NACRE_ASSIGN_OR_RETURN(id, Int(bk, "id", where));
    }
    NACRE_ASSIGN_OR_RETURN(std::string name, Str(bk, "name", where));
    NACRE_ASSIGN_OR_RETURN(std::string type, Str(bk, "type", where));
    NACRE_ASSIGN_OR_RETURN(std::string alg, Str(bk, "alg", where, false));
    if (!alg.empty() && alg != "straw2") return Invalid(where + ": unsupported bucket algorithm (only straw2)");
    NACRE_ASSIGN_OR_RETURN(const json* items, Array(bk, "items", where, false));
    std::vector<std::string> names;
    for (const json& item : *items) {
      if (!item.is_string()) return Invalid(where + ": items must be names (strings)");
      names.push_back(item.get<std::string>());
    }
    b.AddBucket(id, std::move(name), std::move(type), std::move(names), where);
  }
  NACRE_ASSIGN_OR_RETURN(const json* rules, Array(j, "rules", "top level", false));
  for (size_t i = 0; i < rules->size(); ++i) {
    const std::string where = "rules[" + std::to_string(i) + "]";
    const json& r = (*rules)[i];
    NACRE_RETURN_IF_ERROR(CheckKeys(r, where, {"id", "name", "type", "steps"}));
    std::optional<int64_t> id;
    if (r.contains("id")) {
      NACRE_ASSIGN_OR_RETURN(id, Int(r, "id", where));
    }
    NACRE_ASSIGN_OR_RETURN(std::string name, Str(r, "name", where));
    NACRE_ASSIGN_OR_RETURN(std::string type, Str(r, "type", where, false));
    RuleType rt = RuleType::kReplicated;
    if (type == "erasure") {
      rt = RuleType::kErasure;
    } else if (!type.empty() && type != "replicated") {
      return Invalid(where + ": type must be replicated or erasure");
    }
    NACRE_ASSIGN_OR_RETURN(const json* steps, Array(r, "steps", where, true));
    if (steps->size() > static_cast<size_t>(kMaxRuleSteps))
      return TooBig(where + ": more than " + std::to_string(kMaxRuleSteps) + " steps");
    std::vector<CrushBuilder::StepSpec> specs(steps->size());
    for (size_t k = 0; k < steps->size(); ++k)
      NACRE_RETURN_IF_ERROR(Step((*steps)[k], where + ".steps[" + std::to_string(k) + "]", &specs[k]));
    b.AddRule(id, std::move(name), rt, std::move(specs), where);
  }
  return b.Build();
}

}  // namespace

Result<CrushMap> ParseCrushJson(std::string_view text) {
  if (text.size() > kMaxTextBytes)
    return TooBig("crush map JSON is " + std::to_string(text.size()) + " bytes (max " +
                  std::to_string(kMaxTextBytes) + ")");
  try {
    const json j = json::parse(text.begin(), text.end());
    return Parse(j);
  } catch (const json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    return Invalid(std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace nacre::crush
